//! What the checkout page shows, computed from a priced session: lines in plain words, the
//! order summary, the form's current values and the errors beside their fields.

use std::collections::HashMap;

use crate::db::companies::Company;
use crate::domain::countries::COUNTRY_NAMES;
use crate::domain::money::Currency;
use crate::domain::pricing::{PriceModel, Quote, Selection};
use crate::domain::term::Period;
use crate::i18n::format::{self, TierRow};
use crate::i18n::{self, Locale, Texts};
use crate::payments::PagePayment;
use crate::services::checkout::{Adjustable, Entered, Options};

/// The merchant's branding.
#[derive(Clone)]
pub struct Merchant {
    pub name: String,
    pub logo_url: Option<String>,
    /// A `#rrggbb` colour, checked, safe to put in a style attribute.
    pub brand_color: String,
    pub back_url: Option<String>,
    pub back_label: String,
}

impl Merchant {
    pub fn new(company: &Company, options: &Options, locale: Locale) -> Merchant {
        let color = company
            .brand_color
            .as_deref()
            .filter(|c| c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or("#2445c8");
        Merchant {
            name: company.name.clone(),
            logo_url: company.logo_url.clone().filter(|u| u.starts_with("https://")),
            brand_color: color.to_string(),
            back_url: options.back_url.clone(),
            back_label: i18n::back_to(locale, &company.name),
        }
    }
}

/// A quantity the customer may change.
pub struct QuantityInput {
    /// The form field name: `qty.<key>`.
    pub field: String,
    pub id: String,
    pub value: String,
    pub min: i64,
    pub max: i64,
    pub hint: String,
    pub error: Option<String>,
}

/// One line of the order.
pub struct LineView {
    pub name: String,
    /// Usage-based: no quantity is bought up front.
    pub metered: bool,
    pub description: String,
    pub quantity: i64,
    pub input: Option<QuantityInput>,
    pub amount: String,
    pub tiers: Vec<TierRow>,
    pub note: Option<String>,
}

/// The order summary.
pub struct Summary {
    pub subtotal: String,
    pub discounts: Vec<(String, String)>,
    pub total_today: String,
    /// "then $29.00 every month", one per billing period, with its first date.
    pub recurring: Vec<(String, String)>,
    pub trial: Option<String>,
    /// "Term: 12 months", when the order has a contract length.
    pub term: Option<String>,
}

/// A form field's current value and error.
#[derive(Default)]
pub struct Field {
    pub value: String,
    pub error: Option<String>,
}

/// Contact and address fields, with errors by field name.
#[derive(Default)]
pub struct Form {
    pub fields: HashMap<&'static str, Field>,
}

impl Form {
    pub fn value(&self, name: &str) -> &str {
        self.fields.get(name).map(|f| f.value.as_str()).unwrap_or("")
    }
    pub fn error(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|f| f.error.as_deref())
    }
    pub fn set(&mut self, name: &'static str, value: Option<&str>) {
        self.fields.entry(name).or_default().value = value.unwrap_or("").to_string();
    }
    pub fn fail(&mut self, name: &'static str, message: &str) {
        self.fields.entry(name).or_default().error = Some(message.to_string());
    }
    pub fn has_errors(&self) -> bool {
        self.fields.values().any(|f| f.error.is_some())
    }

    /// The form as the customer last left it.
    pub fn from_entered(e: &Entered) -> Form {
        let mut form = Form::default();
        form.set("email", e.email.as_deref());
        form.set("name", e.name.as_deref());
        form.set("company", e.company.as_deref());
        form.set("phone", e.phone.as_deref());
        form.set("line1", e.address.line1.as_deref());
        form.set("line2", e.address.line2.as_deref());
        form.set("city", e.address.city.as_deref());
        form.set("state", e.address.state.as_deref());
        form.set("postal_code", e.address.postal_code.as_deref());
        form.set("country", e.address.country.as_deref());
        form.set("promo_code", e.promo_code.as_deref());
        form
    }
}

/// A `<select>` option.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// Every country, named in the page's language and sorted by that name, the current one selected.
pub fn countries(locale: Locale, selected: &str) -> Vec<Choice> {
    sorted_countries(locale)
        .iter()
        .map(|&(value, label)| Choice { value, label, selected: value == selected })
        .collect()
}

/// (code, name) of every country in `locale`'s language, sorted by name: sorted once per
/// language for the life of the process, not on every page.
fn sorted_countries(locale: Locale) -> &'static [(&'static str, &'static str)] {
    type Sorted = std::sync::LazyLock<Vec<(&'static str, &'static str)>>;
    fn sorted(german: bool) -> Vec<(&'static str, &'static str)> {
        let mut list: Vec<_> =
            COUNTRY_NAMES.iter().map(|&(code, en, de)| (code, if german { de } else { en })).collect();
        list.sort_by(|a, b| a.1.cmp(b.1));
        list
    }
    static ENGLISH: Sorted = Sorted::new(|| sorted(false));
    static GERMAN: Sorted = Sorted::new(|| sorted(true));
    if locale == Locale::De { &GERMAN } else { &ENGLISH }
}

/// The lines of `quote`, described for people, with inputs for the adjustable quantities.
pub fn lines(
    quote: &Quote,
    selections: &[Selection],
    unit_labels: &HashMap<String, String>,
    adjustable: &[Adjustable],
    entered: &Entered,
    quantity_errors: &HashMap<String, String>,
    locale: Locale,
) -> Vec<LineView> {
    let t = i18n::texts(locale);
    let currency = quote.currency;
    quote
        .lines
        .iter()
        .zip(selections)
        .map(|(line, selection)| {
            let item = &selection.item;
            let unit_label = unit_labels.get(&line.item_pricing_id).map(String::as_str);
            let description = format::describe_item(item, currency, locale, unit_label);
            let tiers = format::tier_table(&item.model, currency, locale, unit_label);
            // A quantity is adjustable per item, or for a whole plan.
            let adjust = adjustable.iter().find(|a| a.key == line.item_pricing_id).or_else(|| {
                if line.metered { None } else { adjustable.iter().find(|a| a.key == line.product_pricing_id) }
            });
            // Never where the price ignores the quantity (a flat fee, a customer-chosen amount):
            // changing it would do nothing.
            let quantity_matters = !matches!(item.model, PriceModel::Flat { .. } | PriceModel::CustomerChosen { .. });
            let adjust = adjust.filter(|_| quantity_matters);
            let input = adjust.map(|a| {
                let value = entered.quantities.get(&a.key).copied().unwrap_or(line.quantity);
                QuantityInput {
                    field: format!("qty.{}", a.key),
                    id: format!("qty-{}", a.key),
                    value: value.to_string(),
                    min: a.min,
                    max: a.max,
                    hint: i18n::quantity_range(locale, a.min, a.max),
                    error: quantity_errors.get(&a.key).cloned(),
                }
            });
            let note = if line.metered {
                Some(t.usage_based.to_string())
            } else if !line.due_today {
                Some(t.free_trial.to_string())
            } else {
                None
            };
            LineView {
                name: line.name.clone(),
                metered: line.metered,
                description,
                quantity: line.quantity,
                input,
                amount: if line.metered { String::new() } else { format::money(line.amount, currency, locale) },
                tiers,
                note,
            }
        })
        // Lines past the selections are the customer's waiting one-time charges, priced
        // when the merchant added them (see `quote::add_to_quote`).
        .chain(quote.lines.iter().skip(selections.len()).map(|line| LineView {
            name: line.name.clone(),
            metered: false,
            description: t.added_charge.to_string(),
            quantity: line.quantity,
            input: None,
            amount: format::money(line.amount, currency, locale),
            tiers: Vec::new(),
            note: None,
        }))
        .collect()
}

/// Today's charge, then each recurring charge with its date, the trial and the term.
pub fn summary(quote: &Quote, term: Option<Period>, locale: Locale) -> Summary {
    let c = quote.currency;
    let m = |v: i64| format::money(v, c, locale);
    Summary {
        subtotal: m(quote.due_today.subtotal),
        discounts: quote
            .due_today
            .discounts
            .iter()
            .filter(|d| d.amount > 0)
            .map(|d| (d.name.clone(), format!("−{}", m(d.amount))))
            .collect(),
        total_today: m(quote.due_today.total),
        recurring: quote
            .recurring
            .iter()
            .map(|r| {
                (i18n::then_every(locale, &m(r.charge.total), r.period), i18n::first_charge_on(locale, r.charge.at))
            })
            .collect(),
        trial: quote.trial_ends_at.map(|at| i18n::trial_ends_on(locale, at)),
        term: term.map(|t| i18n::term_length(locale, t)),
    }
}

/// What the pay button says: Pay $x, Subscribe, or Start trial.
pub fn button_label(quote: &Quote, payment: &PagePayment, t: &Texts, locale: Locale) -> String {
    let today = quote.due_today.total;
    match payment {
        PagePayment::Instructions { .. } if today > 0 => {
            i18n::pay_amount(locale, &format::money(today, quote.currency, locale))
        }
        _ if quote.trial_ends_at.is_some() && today == 0 => t.start_trial_button.to_string(),
        _ if today == 0 => t.subscribe_button.to_string(),
        _ => i18n::pay_amount(locale, &format::money(today, quote.currency, locale)),
    }
}

/// Money for a confirmation page.
pub fn money(amount: i64, currency: Currency, locale: Locale) -> String {
    format::money(amount, currency, locale)
}
