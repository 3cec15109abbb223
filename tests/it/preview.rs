//! `POST …/pricing/preview`: every pricing model, quantities, discounts, promo codes and coupons,
//! currencies, trials and terms, one-time items, and that a preview stores nothing.
//! Every expected amount is worked out by hand in the comment beside it (minor units).

use kasse::db::Db;
use serde_json::{Value, json};

use crate::support::*;

/// Preview an order for our company.
async fn preview(app: &TestApp, body: &Value) -> Resp {
    app.post_company("/pricing/preview", body).await
}

/// Preview an order that must be priced, and return the quote.
async fn quote(app: &TestApp, body: &Value) -> Value {
    preview(app, body).await.ok().clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn item_id(pricing: &Value, i: usize) -> String {
    pricing["items"][i]["id"].as_str().expect("item id").to_string()
}

fn monthly() -> Value {
    json!({"count": 1, "frequency": "MONTH"})
}

fn yearly() -> Value {
    json!({"count": 1, "frequency": "YEAR"})
}

/// `cents` US cents as the API writes money.
fn usd(cents: i64) -> Value {
    json!({"currency": "USD", "value_in_cents": cents})
}

/// A pricing with one item; returns (pricing id, item id).
async fn plan(app: &TestApp, currency: &str, item: Value) -> (String, String) {
    let p = app.pricing(currency, json!([item])).await;
    (id(&p), item_id(&p, 0))
}

/// The order for `quantity` of the only item of `pricing`.
fn order(pricing: &str, item: &str, quantity: i64) -> Value {
    json!({
        "product_pricing_ids": [pricing],
        "config_items": [{"product_metric_pricing_id": item, "num_licenses": quantity}],
    })
}

/// The amount of the only line of a one-item order of `quantity`.
async fn line_amount(app: &TestApp, pricing: &str, item: &str, quantity: i64) -> i64 {
    let q = quote(app, &order(pricing, item, quantity)).await;
    assert_eq!(q["lines"].as_array().map(Vec::len), Some(1), "{q}");
    q["lines"][0]["amount"].as_i64().expect("amount")
}

/// POST as the other tenant, under its own company.
async fn post_as_other(app: &TestApp, path: &str, body: &Value) -> Value {
    let url = format!("{}/api/v1/companies/{}{path}", app.base, app.other_company_id);
    let r = app.send(app.client.post(url).bearer_auth(&app.other_api_key).json(body)).await;
    r.ok().clone()
}

async fn coupon(app: &TestApp, body: Value) -> Value {
    app.post_company("/coupons", &body).await.ok().clone()
}

/// A 20 % coupon named `name` (plus the fields of `extra`) with one promo code described by `code`.
async fn percent_coupon(app: &TestApp, name: &str, extra: Value, code: Value) -> Value {
    let mut body = json!({"name": name, "type": "DISCOUNT_PERCENT", "percent": 0.2, "promo_codes": [code]});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    coupon(app, body).await
}

/// Run `sql` (with `$1` = our company id) straight on the store.
async fn execute(app: &TestApp, sql: &str) {
    on_db!(&app.db, |pool| sqlx::query(sql).bind(&app.company_id).execute(pool).await.map(|_| ())).expect("sql");
}

/// Seats at 1000 a month, 3 of them (3000 a month), plus a one-time setup fee of 5000 with
/// `onetime_billable_id` "setup"; starting 2026-01-31. Today: 3000 + 5000 = 8000; each later month 3000.
/// Returns (seats pricing, order body); line 0 is the seats, line 1 the setup fee.
async fn seats_and_setup(app: &TestApp) -> (Value, Value) {
    let seats = app
        .pricing(
            "USD",
            json!([{"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000, "billing_period": monthly()}]),
        )
        .await;
    let setup_product = app.product("Setup").await;
    let body = json!({
        "product_pricing_ids": [id(&seats)],
        "config_items": [{"product_metric_pricing_id": item_id(&seats, 0), "num_licenses": 3}],
        "onetime_items": [{
            "custom_price": {"amount": usd(5000), "description": "Setup", "product_id": setup_product},
            "onetime_billable_id": "setup",
        }],
        "start_date": "2026-01-31",
    });
    (seats, body)
}

/// Only the 3 seats at 1000 a month (3000 today and 3000 each later month), starting 2026-01-31.
async fn seats_only(app: &TestApp) -> Value {
    let (_, mut body) = seats_and_setup(app).await;
    body.as_object_mut().expect("object").remove("onetime_items");
    body
}

/// Today's `(subtotal, discount_total, total)` and the first recurring charge's.
fn totals(q: &Value) -> ((i64, i64, i64), (i64, i64, i64)) {
    let t = |c: &Value| {
        (
            c["subtotal"].as_i64().expect("subtotal"),
            c["discount_total"].as_i64().expect("discount_total"),
            c["total"].as_i64().expect("total"),
        )
    };
    (t(&q["due_today"]), t(&q["recurring"][0]))
}

/// A pricing with three one-time items on the same tier bounds (10 | 20 | ∞): GRADUATED and VOLUME
/// at 100 / 80 (+200 flat on reaching tier 2) / 50 a unit, STAIR_STEP at 1000 / 1800 / 2500.
/// Returns the (graduated, volume, stair-step) line amounts for `quantity` of each.
async fn tiered(app: &TestApp, quantity: i64) -> (i64, i64, i64) {
    let priced = json!([
        {"up_to": 10, "unit_amount": 100},
        {"up_to": 20, "unit_amount": 80, "flat_amount": 200},
        {"up_to": null, "unit_amount": 50},
    ]);
    let steps = json!([
        {"up_to": 10, "flat_amount": 1000},
        {"up_to": 20, "flat_amount": 1800},
        {"up_to": null, "flat_amount": 2500},
    ]);
    let p = app
        .pricing(
            "USD",
            json!([
                {"name": "Graduated", "pricing_model": "GRADUATED", "tiers": priced},
                {"name": "Volume", "pricing_model": "VOLUME", "tiers": priced},
                {"name": "Stair", "pricing_model": "STAIR_STEP", "tiers": steps},
            ]),
        )
        .await;
    // A config item without an item id sets the quantity of every item of the plan.
    let q = quote(
        app,
        &json!({
            "product_pricing_ids": [id(&p)],
            "config_items": [{"product_pricing_id": id(&p), "num_licenses": quantity}],
        }),
    )
    .await;
    let amount = |i: usize| q["lines"][i]["amount"].as_i64().expect("amount");
    for i in 0..3 {
        assert_eq!(q["lines"][i]["quantity"], quantity, "{q}");
    }
    (amount(0), amount(1), amount(2))
}

async fn customer_chosen(app: &TestApp) -> (String, String) {
    let range = json!({"min": 500, "max": 5000, "preset": 1500});
    let item = json!({"name": "Donation", "pricing_model": "CUSTOMER_CHOSEN", "custom_price": range});
    plan(app, "USD", item).await
}

on_both_stores! {
    // ---- 1. Pricing models ------------------------------------------------------------------

    async fn a_flat_price_is_its_amount_whatever_the_quantity(app) {
        let (p, item) = plan(
            app,
            "USD",
            json!({"name": "Base fee", "pricing_model": "FLAT", "amount": 4900, "billing_period": monthly()}),
        )
        .await;
        let q = quote(app, &order(&p, &item, 3)).await;
        assert_eq!(q["currency"], "USD");
        let line = &q["lines"][0];
        assert_eq!(line["amount"], 4900, "{q}"); // flat: 4900 for 3 as for 1
        assert_eq!((line["quantity"].as_i64(), line["billed_quantity"].as_i64()), (Some(3), Some(3)));
        assert_eq!(line["billing_period"], monthly());
        assert_eq!((line["due_today"].as_bool(), line["metered"].as_bool()), (Some(true), Some(false)));
        assert_eq!(
            (line["product_pricing_id"].as_str(), line["item_pricing_id"].as_str()),
            (Some(p.as_str()), Some(item.as_str()))
        );
        assert_eq!(totals(&q), ((4900, 0, 4900), (4900, 0, 4900)));
        assert_eq!(q["total_due_today"], 4900);
        assert_eq!(q["recurring"][0]["billing_period"], monthly());
    }

    async fn a_per_unit_price_is_multiplied_by_the_quantity(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1250})).await;
        let q = quote(app, &order(&p, &item, 4)).await;
        assert_eq!(q["lines"][0]["amount"], 5000, "{q}"); // 4 × 1250
        assert_eq!(q["lines"][0]["description"], "4 units, per unit");
        assert_eq!(q["lines"][0]["billing_period"], Value::Null); // no billing_period: one-time
        assert_eq!(q["total_due_today"], 5000);
        assert_eq!(q["recurring"], json!([]));
        assert_eq!(line_amount(app, &p, &item, 0).await, 0); // 0 × 1250
    }

    async fn a_fractional_unit_price_is_rounded_half_away_from_zero_once_per_line(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Calls", "pricing_model": "PER_UNIT", "unit_amount_decimal": "0.125"}))
                .await;
        // 20 × 0.125 = 2.5 → 3 (banker's rounding would give 2; rounding each unit first would give 0)
        assert_eq!(line_amount(app, &p, &item, 20).await, 3);
        // 4 × 0.125 = 0.5 → 1
        assert_eq!(line_amount(app, &p, &item, 4).await, 1);
        // 3 × 0.125 = 0.375 → 0
        assert_eq!(line_amount(app, &p, &item, 3).await, 0);
        let (p, item) =
            plan(app, "USD", json!({"name": "Units", "pricing_model": "PER_UNIT", "unit_amount_decimal": "12.345"}))
                .await;
        // 2 × 12.345 = 24.69 → 25 (per-unit rounding would give 2 × 12 = 24)
        assert_eq!(line_amount(app, &p, &item, 2).await, 25);
    }

    async fn a_package_price_charges_every_started_package(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Blocks", "pricing_model": "PACKAGE", "package_size": 10, "amount": 700}))
                .await;
        assert_eq!(line_amount(app, &p, &item, 21).await, 2100); // ceil(21 / 10) = 3 × 700
        assert_eq!(line_amount(app, &p, &item, 20).await, 1400); // 20 / 10 = 2 × 700
        assert_eq!(line_amount(app, &p, &item, 1).await, 700); // ceil(1 / 10) = 1 × 700
    }

    async fn tiers_below_the_first_edge_price_alike_except_stair_step(app) {
        // graduated: 5 × 100 = 500; volume: 5 × 100 = 500; stair-step: tier 1 = 1000
        assert_eq!(tiered(app, 5).await, (500, 500, 1000));
    }

    async fn tiers_on_the_first_edge_stay_in_the_first_tier(app) {
        // graduated: 10 × 100 = 1000; volume: 10 × 100 = 1000; stair-step: tier 1 (up_to 10 is inclusive) = 1000
        assert_eq!(tiered(app, 10).await, (1000, 1000, 1000));
    }

    async fn tiers_just_above_the_first_edge_differ_by_model(app) {
        // graduated: 10 × 100 + 1 × 80 + 200 = 1280; volume: 11 × 80 + 200 = 1080; stair-step: tier 2 = 1800
        assert_eq!(tiered(app, 11).await, (1280, 1080, 1800));
    }

    async fn tiers_in_the_unbounded_last_tier(app) {
        // graduated: 10 × 100 + 10 × 80 + 200 + 5 × 50 = 2250; volume: 25 × 50 = 1250; stair-step: tier 3 = 2500
        assert_eq!(tiered(app, 25).await, (2250, 1250, 2500));
    }

    async fn a_customer_chosen_price_defaults_to_the_preset(app) {
        let (p, _) = customer_chosen(app).await;
        let q = quote(app, &json!({"product_pricing_ids": [p]})).await;
        assert_eq!(q["lines"][0]["amount"], 1500, "{q}"); // the preset
        assert_eq!(q["lines"][0]["description"], "amount chosen by the customer");
        assert_eq!(q["total_due_today"], 1500);
    }

    async fn a_customer_chosen_price_takes_the_chosen_amount(app) {
        let (p, item) = customer_chosen(app).await;
        let chosen = |amount: i64| {
            json!({
                "product_pricing_ids": [p],
                "config_items": [{"product_metric_pricing_id": item, "custom_amount": amount}],
            })
        };
        let q = quote(app, &chosen(2500)).await;
        assert_eq!((q["lines"][0]["amount"].as_i64(), q["total_due_today"].as_i64()), (Some(2500), Some(2500)), "{q}");
        // Both bounds are allowed.
        assert_eq!(quote(app, &chosen(500)).await["total_due_today"], 500);
        assert_eq!(quote(app, &chosen(5000)).await["total_due_today"], 5000);
    }

    async fn a_customer_chosen_amount_outside_its_range_is_refused(app) {
        let (p, item) = customer_chosen(app).await;
        for amount in [5001, 499] {
            let body = json!({
                "product_pricing_ids": [p],
                "config_items": [{"product_metric_pricing_id": item, "custom_amount": amount}],
            });
            preview(app, &body).await.assert_error(422, "config_items[0].custom_amount");
        }
    }

    async fn a_metered_line_is_shown_but_not_charged_today_or_later(app) {
        let p = app
            .pricing(
                "USD",
                json!([
                    {"name": "Platform", "pricing_model": "FLAT", "amount": 2000, "billing_period": monthly()},
                    {
                        "name": "API calls", "pricing_model": "PER_UNIT", "unit_amount": 10,
                        "billing_period": monthly(), "metered": true,
                    },
                ]),
            )
            .await;
        let body = json!({
            "product_pricing_ids": [id(&p)],
            "config_items": [{"product_metric_pricing_id": item_id(&p, 1), "num_licenses": 1000}],
        });
        let q = quote(app, &body).await;
        let metered = &q["lines"][1];
        assert_eq!(metered["metered"], true, "{q}");
        assert_eq!(metered["amount"], 0); // billed in arrears, not 1000 × 10
        assert_eq!(metered["due_today"], false);
        assert_eq!(metered["description"], "1000 units, metered, billed in arrears");
        // Only the platform fee is charged: today and every month.
        assert_eq!(totals(&q), ((2000, 0, 2000), (2000, 0, 2000)));
        assert_eq!(q["recurring"].as_array().map(Vec::len), Some(1));
    }

    async fn included_units_are_free(app) {
        let (p, item) = plan(
            app,
            "USD",
            json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 100, "included_units": 3}),
        )
        .await;
        let q = quote(app, &order(&p, &item, 5)).await;
        let line = &q["lines"][0];
        assert_eq!(line["amount"], 200, "{q}"); // (5 - 3) × 100
        assert_eq!((line["quantity"].as_i64(), line["billed_quantity"].as_i64()), (Some(5), Some(2)));
        assert_eq!(line["description"], "2 units, per unit (+3 units included)");
        assert_eq!(line_amount(app, &p, &item, 2).await, 0); // max(2 - 3, 0) × 100
    }

    async fn a_minimum_spend_raises_a_small_line_but_not_an_empty_one(app) {
        let (p, item) = plan(
            app,
            "USD",
            json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 100, "minimum_spend": 1000}),
        )
        .await;
        assert_eq!(line_amount(app, &p, &item, 3).await, 1000); // 3 × 100 = 300, raised to 1000
        assert_eq!(line_amount(app, &p, &item, 20).await, 2000); // 20 × 100 = 2000 ≥ 1000
        assert_eq!(line_amount(app, &p, &item, 0).await, 0); // quantity 0: no minimum
    }

    // ---- 2. Quantities ----------------------------------------------------------------------

    async fn a_quantity_outside_quantity_config_is_refused(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000})).await;
        let with = |n: i64| {
            json!({
                "product_pricing_ids": [p],
                "config_items": [{
                    "product_metric_pricing_id": item,
                    "num_licenses": n,
                    "quantity_config": {"min_quantity": 1, "max_quantity": 10},
                }],
            })
        };
        preview(app, &with(11)).await.assert_error(422, "config_items[0].num_licenses");
        preview(app, &with(0)).await.assert_error(422, "config_items[0].num_licenses");
        assert_eq!(quote(app, &with(10)).await["total_due_today"], 10000); // 10 × 1000, max is inclusive
        assert_eq!(quote(app, &with(1)).await["total_due_today"], 1000); // 1 × 1000, min is inclusive
    }

    async fn min_quantity_above_max_quantity_is_refused(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000})).await;
        let body = json!({
            "product_pricing_ids": [p],
            "config_items": [{
                "product_metric_pricing_id": item,
                "num_licenses": 3,
                "quantity_config": {"min_quantity": 5, "max_quantity": 2},
            }],
        });
        preview(app, &body).await.assert_error(422, "config_items[0].quantity_config.min_quantity");
    }

    async fn a_negative_one_time_aggregate_is_refused(app) {
        let (p, _) = plan(app, "USD", json!({"name": "Setup", "pricing_model": "FLAT", "amount": 5000})).await;
        let body = json!({"onetime_items": [{"product_pricing_id": p, "aggregate": -1}]});
        preview(app, &body).await.assert_error(422, "onetime_items[0].aggregate");
    }

    async fn a_quantity_config_holds_even_without_num_licenses(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000})).await;
        let with = |min: i64, max: i64| {
            json!({
                "product_pricing_ids": [p],
                "config_items": [{
                    "product_metric_pricing_id": item,
                    "quantity_config": {"min_quantity": min, "max_quantity": max},
                }],
            })
        };
        // An impossible range is refused whether or not a quantity is given.
        preview(app, &with(5, 2)).await.assert_error(422, "config_items[0].quantity_config.min_quantity");
        // The default quantity must respect the range too: either it is refused (as an absent one-time
        // `aggregate` is) or the line is priced at a quantity within 5..=10, never at 1 unit.
        let r = preview(app, &with(5, 10)).await;
        if r.status == 200 {
            let quantity = r.body["lines"][0]["quantity"].as_i64().expect("quantity");
            assert!((5..=10).contains(&quantity), "priced at quantity {quantity} outside 5..=10: {}", r.body);
        } else {
            r.assert_error(422, "config_items[0].num_licenses");
        }
    }

    async fn an_order_above_ten_to_the_twelve_minor_units_is_refused(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Gold", "pricing_model": "PER_UNIT", "unit_amount": 1_000_000_000_000i64}))
                .await;
        assert_eq!(line_amount(app, &p, &item, 1).await, 1_000_000_000_000); // 1 × 10^12: the largest amount allowed
        let r = preview(app, &order(&p, &item, 2)).await; // 2 × 10^12 > 10^12
        r.assert_error(422, "config_items");
        assert_eq!(r.error_code(), "amount_too_large");
    }

    // ---- 3. Discounts -----------------------------------------------------------------------

    async fn a_percent_discount_takes_its_share_of_every_charge(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.25, "name": "Launch"}]);
        let q = quote(app, &body).await;
        // today: 8000 × 0.25 = 2000 off; each month: 3000 × 0.25 = 750 off (FOREVER by default)
        assert_eq!(totals(&q), ((8000, 2000, 6000), (3000, 750, 2250)), "{q}");
        assert_eq!(
            (q["subtotal"].as_i64(), q["discount_total"].as_i64(), q["total_due_today"].as_i64()),
            (Some(8000), Some(2000), Some(6000))
        );
        let d = &q["due_today"]["discounts"][0];
        assert_eq!((d["name"].as_str(), d["amount"].as_i64()), (Some("Launch"), Some(2000)));
        assert_eq!(d["line_indexes"], json!([0, 1]));
    }

    async fn a_fixed_amount_discount_takes_its_amount_off_every_charge(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_AMOUNT", "amount": usd(1500)}]);
        let q = quote(app, &body).await;
        // today: 8000 - 1500 = 6500; each month: 3000 - 1500 = 1500
        assert_eq!(totals(&q), ((8000, 1500, 6500), (3000, 1500, 1500)), "{q}");
    }

    async fn a_fixed_amount_above_the_total_leaves_zero_never_less(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] =
            json!([{"type": "DISCOUNT_AMOUNT", "amount": usd(10000)}]);
        let q = quote(app, &body).await;
        // today: min(10000, 8000) = 8000 off → 0; each month: min(10000, 3000) = 3000 off → 0
        assert_eq!(totals(&q), ((8000, 8000, 0), (3000, 3000, 0)), "{q}");
        assert_eq!(q["total_due_today"], 0);
    }

    async fn a_capped_percent_discount_takes_at_most_its_cap(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] =
            json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "cap": usd(1000)}]);
        let q = quote(app, &body).await;
        // today: min(8000 × 0.5 = 4000, 1000) = 1000 off; each month: min(3000 × 0.5 = 1500, 1000) = 1000 off
        assert_eq!(totals(&q), ((8000, 1000, 7000), (3000, 1000, 2000)), "{q}");
    }

    async fn discounts_apply_in_order_each_to_what_is_left(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([
            {"type": "DISCOUNT_PERCENT", "percent": 0.5, "name": "Half"},
            {"type": "DISCOUNT_AMOUNT", "amount": usd(1000), "name": "Ten off"},
        ]);
        let q = quote(app, &body).await;
        // today: 8000 × 0.5 = 4000, then 1000 → 3000; each month: 3000 × 0.5 = 1500, then 1000 → 500
        assert_eq!(totals(&q), ((8000, 5000, 3000), (3000, 2500, 500)), "{q}");
        let names: Vec<&str> = q["due_today"]["discounts"]
            .as_array()
            .expect("discounts")
            .iter()
            .filter_map(|d| d["name"].as_str())
            .collect();
        assert_eq!(names, ["Half", "Ten off"]);
    }

    async fn a_discount_scoped_to_a_product_applies_only_to_its_lines(app) {
        let (seats, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "product_id": seats["product_id"]}]);
        let q = quote(app, &body).await;
        // the seats only: 3000 × 0.5 = 1500 off today and each month; the setup fee (5000) untouched
        assert_eq!(totals(&q), ((8000, 1500, 6500), (3000, 1500, 1500)), "{q}");
        assert_eq!(q["due_today"]["discounts"][0]["line_indexes"], json!([0]));
    }

    async fn a_discount_scoped_to_a_product_pricing_applies_only_to_its_lines(app) {
        let (seats, seat) = plan(
            app,
            "USD",
            json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000, "billing_period": monthly()}),
        )
        .await;
        let (support, _) = plan(
            app,
            "USD",
            json!({"name": "Support", "pricing_model": "FLAT", "amount": 2000, "billing_period": monthly()}),
        )
        .await;
        let body = json!({
            "product_pricing_ids": [seats, support],
            "config_items": [{"product_metric_pricing_id": seat, "num_licenses": 3}],
            "discounts": [{"type": "DISCOUNT_PERCENT", "percent": 0.5, "product_pricing_id": support}],
        });
        let q = quote(app, &body).await;
        // lines: seats 3 × 1000 = 3000, support 2000; support only: 2000 × 0.5 = 1000 off → 5000 - 1000 = 4000
        assert_eq!(totals(&q), ((5000, 1000, 4000), (5000, 1000, 4000)), "{q}");
        assert_eq!(q["due_today"]["discounts"][0]["line_indexes"], json!([1]));
    }

    async fn a_discount_scoped_to_an_item_pricing_applies_only_to_that_item(app) {
        let p = app
            .pricing(
                "USD",
                json!([
                    {"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000, "billing_period": monthly()},
                    {"name": "Platform fee", "pricing_model": "FLAT", "amount": 2000, "billing_period": monthly()},
                ]),
            )
            .await;
        let body = json!({
            "product_pricing_ids": [id(&p)],
            "config_items": [{"product_metric_pricing_id": item_id(&p, 0), "num_licenses": 3}],
            "discounts": [{"type": "DISCOUNT_PERCENT", "percent": 0.1, "item_pricing_id": item_id(&p, 1)}],
        });
        let q = quote(app, &body).await;
        // lines: 3 × 1000 = 3000 and 2000; the platform fee only: 2000 × 0.1 = 200 off → 5000 - 200 = 4800
        assert_eq!(totals(&q), ((5000, 200, 4800), (5000, 200, 4800)), "{q}");
        assert_eq!(q["due_today"]["discounts"][0]["line_indexes"], json!([1]));
    }

    async fn a_discount_scoped_to_a_one_time_item_applies_only_to_it(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.1, "onetime_billable_id": "setup"}]);
        let q = quote(app, &body).await;
        // today: the setup fee only: 5000 × 0.1 = 500 off → 7500; the monthly charge has no setup line: untouched
        assert_eq!(totals(&q), ((8000, 500, 7500), (3000, 0, 3000)), "{q}");
        assert_eq!(q["due_today"]["discounts"][0]["line_indexes"], json!([1]));
        assert_eq!(q["lines"][1]["onetime_billable_id"], "setup");
        assert_eq!(q["recurring"][0]["discounts"], json!([]));
    }

    async fn a_discount_scoped_to_something_not_in_the_order_is_refused(app) {
        let (_, mut body) = seats_and_setup(app).await;
        // Another tenant's product can never be in our order.
        let theirs = post_as_other(app, "/products", &json!({"name": "Theirs"})).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "product_id": id(&theirs)}]);
        preview(app, &body).await.assert_error(422, "discounts[0].product_id");
        // Nor is one of our products that the order does not buy.
        let unrelated = app.product("Unrelated").await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "product_id": unrelated}]);
        preview(app, &body).await.assert_error(422, "discounts[0].product_id");
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "onetime_billable_id": "nope"}]);
        preview(app, &body).await.assert_error(422, "discounts[0].onetime_billable_id");
    }

    async fn an_expired_discount_is_not_applied(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "expiration_date": "2020-01-01"}]);
        let q = quote(app, &body).await;
        // expired before the start (2026-01-31): nothing off anywhere
        assert_eq!(totals(&q), ((8000, 0, 8000), (3000, 0, 3000)), "{q}");
        assert_eq!(q["due_today"]["discounts"], json!([]));
    }

    async fn a_discount_expiring_before_the_next_charge_applies_only_today(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "expiration_date": "2026-02-10"}]);
        let q = quote(app, &body).await;
        // today (2026-01-31): 8000 × 0.5 = 4000 off; the next charge (2026-02-28) is after the expiry: nothing off
        assert_eq!(totals(&q), ((8000, 4000, 4000), (3000, 0, 3000)), "{q}");
    }

    async fn a_once_discount_applies_to_the_first_charge_only(app) {
        let mut body = seats_only(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "duration": "ONCE"}]);
        let q = quote(app, &body).await;
        // today: 3000 × 0.5 = 1500 off; the next month: nothing off
        assert_eq!(totals(&q), ((3000, 1500, 1500), (3000, 0, 3000)), "{q}");
    }

    async fn a_forever_discount_applies_to_every_charge(app) {
        let mut body = seats_only(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "duration": "FOREVER"}]);
        let q = quote(app, &body).await;
        // 3000 × 0.5 = 1500 off today and each month
        assert_eq!(totals(&q), ((3000, 1500, 1500), (3000, 1500, 1500)), "{q}");
    }

    async fn a_repeating_discount_applies_to_its_number_of_charges(app) {
        let mut body = seats_only(app).await;
        body["discounts"] =
            json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "duration": "REPEATING", "duration_periods": 1}]);
        let q = quote(app, &body).await;
        // 1 charge: today's (charge 1) only: 1500 off; the next month is charge 2: nothing off
        assert_eq!(totals(&q), ((3000, 1500, 1500), (3000, 0, 3000)), "{q}");
        body["discounts"][0]["duration_periods"] = json!(2);
        let q = quote(app, &body).await;
        // 2 charges: today's and the next month's: 1500 off each
        assert_eq!(totals(&q), ((3000, 1500, 1500), (3000, 1500, 1500)), "{q}");
        body["discounts"][0].as_object_mut().expect("object").remove("duration_periods");
        preview(app, &body).await.assert_error(422, "discounts[0].duration_periods");
    }

    async fn a_once_discount_during_a_trial_applies_to_the_first_charge_after_it(app) {
        let (seats, mut body) = seats_and_setup(app).await;
        body["trial_term"] = json!({"count": 14, "frequency": "DAY"});
        body["discounts"] =
            json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "duration": "ONCE", "product_id": seats["product_id"]}]);
        let q = quote(app, &body).await;
        // today holds only the setup fee, outside the scope: nothing off; the first seats charge (at the trial's end):
        // 3000 × 0.5 = 1500 off
        assert_eq!(totals(&q), ((5000, 0, 5000), (3000, 1500, 1500)), "{q}");
        // With a trial the first recurring charge is charge 1, so REPEATING 1 reaches it too.
        body["discounts"] =
            json!([{"type": "DISCOUNT_AMOUNT", "amount": usd(700), "duration": "REPEATING", "duration_periods": 1}]);
        let q = quote(app, &body).await;
        // today: 5000 - 700 = 4300; the first charge after the trial: 3000 - 700 = 2300
        assert_eq!(totals(&q), ((5000, 700, 4300), (3000, 700, 2300)), "{q}");
    }

    async fn a_percent_must_be_a_fraction_above_zero_and_at_most_one(app) {
        let (_, mut body) = seats_and_setup(app).await;
        for bad in [json!(1.5), json!(0), json!(-0.1), json!(50)] {
            body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": bad}]);
            preview(app, &body).await.assert_error(422, "discounts[0].percent");
        }
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 1}]);
        let q = quote(app, &body).await;
        // 100 %: 8000 off today, 3000 off each month
        assert_eq!(totals(&q), ((8000, 8000, 0), (3000, 3000, 0)), "{q}");
    }

    async fn a_discount_in_another_currency_is_refused(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] = json!([{"type": "DISCOUNT_AMOUNT", "amount": {"currency": "EUR", "value_in_cents": 500}}]);
        let r = preview(app, &body).await;
        r.assert_error(422, "discounts[0].amount.currency");
        assert_eq!(r.error_code(), "currency_mismatch");
        body["discounts"] =
            json!([{"type": "DISCOUNT_PERCENT", "percent": 0.5, "cap": {"currency": "EUR", "value_in_cents": 500}}]);
        let r = preview(app, &body).await;
        r.assert_error(422, "discounts[0].cap.currency");
        assert_eq!(r.error_code(), "currency_mismatch");
    }

    // ---- 4. Promo codes and coupons --------------------------------------------------------

    async fn a_promo_code_applies_whatever_its_case(app) {
        percent_coupon(app, "Spring sale", json!({}), json!({"code": "Spring20"})).await;
        let mut body = seats_only(app).await;
        for typed in ["spring20", "SPRING20", " Spring20 "] {
            body["promo_code"] = json!(typed);
            let q = quote(app, &body).await;
            // 3000 × 0.2 = 600 off today and each month
            assert_eq!(totals(&q), ((3000, 600, 2400), (3000, 600, 2400)), "{typed}: {q}");
            assert_eq!(q["promo_code"], "Spring20"); // as stored
            assert_eq!(q["due_today"]["discounts"][0]["name"], "Spring sale");
        }
        body.as_object_mut().expect("object").remove("promo_code");
        assert_eq!(quote(app, &body).await["promo_code"], Value::Null);
    }

    async fn an_unknown_promo_code_is_refused(app) {
        let mut body = seats_only(app).await;
        body["promo_code"] = json!("NOSUCHCODE");
        let r = preview(app, &body).await;
        r.assert_error(422, "promo_code");
        assert_eq!(r.error_code(), "promo_code_unknown");
        // Another tenant's code is unknown to us.
        let theirs =
            json!({"name": "Theirs", "type": "DISCOUNT_PERCENT", "percent": 0.5, "promo_codes": [{"code": "THEIRS50"}]});
        post_as_other(app, "/coupons", &theirs).await;
        body["promo_code"] = json!("THEIRS50");
        let r = preview(app, &body).await;
        r.assert_error(422, "promo_code");
        assert_eq!(r.error_code(), "promo_code_unknown");
    }

    async fn an_expired_promo_code_is_refused(app) {
        percent_coupon(app, "Old", json!({}), json!({"code": "OLD20", "expiration_date": "2020-01-01"})).await;
        let mut body = seats_only(app).await;
        body.as_object_mut().expect("object").remove("start_date");
        body["promo_code"] = json!("OLD20");
        let r = preview(app, &body).await;
        r.assert_error(422, "promo_code");
        assert_eq!(r.error_code(), "promo_code_expired");
    }

    async fn a_promo_code_expires_when_the_clock_passes_its_date(app) {
        // Valid through the end of the day after tomorrow (UTC).
        let last_day = (app.clock.now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
        percent_coupon(app, "Soon", json!({}), json!({"code": "SOON20", "expiration_date": last_day})).await;
        let mut body = seats_only(app).await;
        body.as_object_mut().expect("object").remove("start_date");
        body["promo_code"] = json!("SOON20");
        assert_eq!(quote(app, &body).await["total_due_today"], 2400); // 3000 - 3000 × 0.2
        app.clock.advance(chrono::Duration::days(4));
        let r = preview(app, &body).await;
        r.assert_error(422, "promo_code");
        assert_eq!(r.error_code(), "promo_code_expired");
    }

    async fn an_exhausted_promo_code_is_refused(app) {
        // The code may be used once; the other coupon five times, by any of its codes.
        percent_coupon(app, "One use", json!({}), json!({"code": "ONEUSE", "max_redemptions": 1})).await;
        percent_coupon(app, "Five uses", json!({"max_redemptions": 5}), json!({"code": "FIVEUSES"})).await;
        let mut body = seats_only(app).await;
        for code in ["ONEUSE", "FIVEUSES"] {
            body["promo_code"] = json!(code);
            assert_eq!(quote(app, &body).await["total_due_today"], 2400, "{code}"); // 3000 - 600
        }
        execute(app, "UPDATE promo_codes SET times_redeemed = 1 WHERE company_id = $1 AND code = 'ONEUSE'").await;
        execute(app, "UPDATE coupons SET times_redeemed = 5 WHERE company_id = $1 AND name = 'Five uses'").await;
        for code in ["ONEUSE", "FIVEUSES"] {
            body["promo_code"] = json!(code);
            let r = preview(app, &body).await;
            r.assert_error(422, "promo_code");
            assert_eq!(r.error_code(), "promo_code_exhausted", "{code}");
        }
    }

    async fn an_archived_coupons_promo_code_is_inactive(app) {
        let c = coupon(
            app,
            json!({"name": "Gone", "type": "DISCOUNT_PERCENT", "percent": 0.2, "promo_codes": [{"code": "GONE20"}]}),
        )
        .await;
        app.post_company(&format!("/coupons/{}/archive", id(&c)), &json!({})).await.ok();
        let mut body = seats_only(app).await;
        body["promo_code"] = json!("GONE20");
        let r = preview(app, &body).await;
        r.assert_error(422, "promo_code");
        assert_eq!(r.error_code(), "promo_code_inactive");
        // Nor can the coupon be applied by id.
        body.as_object_mut().expect("object").remove("promo_code");
        body["coupon_ids"] = json!([id(&c)]);
        let r = preview(app, &body).await;
        r.assert_error(422, "coupon_ids[0]");
        assert_eq!(r.error_code(), "promo_code_inactive");
    }

    async fn a_promo_code_that_does_not_fit_the_order_is_not_applicable(app) {
        let euros = json!({"currency": "EUR", "value_in_cents": 500});
        coupon(app, json!({"name": "Euros", "type": "DISCOUNT_AMOUNT", "amount": euros, "promo_codes": [{"code": "EURO5"}]}))
            .await;
        let unrelated = app.product("Unrelated").await;
        percent_coupon(app, "Other product", json!({"product_id": unrelated}), json!({"code": "OTHER20"})).await;
        let mut body = seats_only(app).await;
        for code in ["EURO5", "OTHER20"] {
            body["promo_code"] = json!(code);
            let r = preview(app, &body).await;
            r.assert_error(422, "promo_code");
            assert_eq!(r.error_code(), "promo_code_not_applicable", "{code}");
        }
    }

    async fn coupon_ids_apply_stored_coupons(app) {
        let c = coupon(app, json!({"name": "Five off", "type": "DISCOUNT_AMOUNT", "amount": usd(500), "duration": "ONCE"}))
            .await;
        let mut body = seats_only(app).await;
        body["coupon_ids"] = json!([id(&c)]);
        let q = quote(app, &body).await;
        // ONCE: today 3000 - 500 = 2500; the next month untouched
        assert_eq!(totals(&q), ((3000, 500, 2500), (3000, 0, 3000)), "{q}");
        assert_eq!(q["due_today"]["discounts"][0]["name"], "Five off");
        assert_eq!(q["promo_code"], Value::Null);
        // Another tenant's coupon is unknown.
        let theirs =
            post_as_other(app, "/coupons", &json!({"name": "Theirs", "type": "DISCOUNT_PERCENT", "percent": 0.5}))
                .await;
        body["coupon_ids"] = json!([id(&theirs)]);
        preview(app, &body).await.assert_error(422, "coupon_ids[0]");
    }

    async fn the_same_coupon_is_never_applied_twice(app) {
        let five_off = json!({"name": "Five off", "type": "DISCOUNT_AMOUNT", "amount": usd(500), "promo_codes": [{"code": "FIVE"}]});
        let c = coupon(app, five_off).await;
        let mut body = seats_only(app).await;
        // Listing a coupon twice, or naming it by id and by one of its codes, takes 500 off once or is refused
        // (as a product pricing listed twice is); it never takes 1000 off.
        body["coupon_ids"] = json!([id(&c), id(&c)]);
        let r = preview(app, &body).await;
        if r.status == 200 {
            assert_eq!(r.body["discount_total"], 500, "coupon listed twice: {}", r.body);
        } else {
            r.assert_error(422, "coupon_ids[1]");
        }
        body["coupon_ids"] = json!([id(&c)]);
        body["promo_code"] = json!("FIVE");
        let r = preview(app, &body).await;
        if r.status == 200 {
            assert_eq!(r.body["discount_total"], 500, "coupon by id and by code: {}", r.body);
        } else {
            r.assert_error(422, "promo_code");
        }
    }

    // ---- 5. Currencies and catalog references -------------------------------------------------

    async fn a_jpy_order_is_priced_in_whole_yen(app) {
        let (p, item) =
            plan(app, "JPY", json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1500})).await;
        let mut body = order(&p, &item, 3);
        body["discounts"] = json!([{"type": "DISCOUNT_PERCENT", "percent": 0.15}]);
        let q = quote(app, &body).await;
        assert_eq!(q["currency"], "JPY");
        // 3 × ¥1500 = ¥4500; 15 % = ¥675 off → ¥3825
        assert_eq!(q["lines"][0]["amount"], 4500, "{q}");
        assert_eq!(
            (q["subtotal"].as_i64(), q["discount_total"].as_i64(), q["total_due_today"].as_i64()),
            (Some(4500), Some(675), Some(3825))
        );
        body["discounts"] = json!([{"type": "DISCOUNT_AMOUNT", "amount": usd(100)}]);
        let r = preview(app, &body).await;
        r.assert_error(422, "discounts[0].amount.currency");
        assert_eq!(r.error_code(), "currency_mismatch");
    }

    async fn a_bhd_order_is_priced_in_fils(app) {
        let (p, item) =
            plan(app, "BHD", json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 2500})).await;
        let mut body = order(&p, &item, 3);
        body["discounts"] = json!([{"type": "DISCOUNT_AMOUNT", "amount": {"currency": "BHD", "value_in_cents": 1250}}]);
        let q = quote(app, &body).await;
        assert_eq!(q["currency"], "BHD");
        // 3 × 2.500 BHD = 7500 fils; 1.250 BHD = 1250 fils off → 6250 fils
        assert_eq!(q["lines"][0]["amount"], 7500, "{q}");
        assert_eq!(
            (q["subtotal"].as_i64(), q["discount_total"].as_i64(), q["total_due_today"].as_i64()),
            (Some(7500), Some(1250), Some(6250))
        );
    }

    async fn pricings_in_two_currencies_cannot_share_an_order(app) {
        let (usd, _) = plan(app, "USD", json!({"name": "A", "pricing_model": "FLAT", "amount": 1000})).await;
        let (eur, _) = plan(app, "EUR", json!({"name": "B", "pricing_model": "FLAT", "amount": 1000})).await;
        let r = preview(app, &json!({"product_pricing_ids": [usd, eur]})).await;
        r.assert_error(422, "product_pricing_ids[1]");
        assert_eq!(r.error_code(), "currency_mismatch");
    }

    async fn an_unknown_product_pricing_is_refused(app) {
        let r = preview(app, &json!({"product_pricing_ids": ["pp_doesnotexist"]})).await;
        r.assert_error(422, "product_pricing_ids[0]");
        assert_eq!(r.error_code(), "resource_missing");
    }

    async fn another_tenants_product_pricing_is_as_unknown_as_a_missing_one(app) {
        let product = post_as_other(app, "/products", &json!({"name": "Theirs"})).await;
        let theirs = post_as_other(
            app,
            "/product_pricings",
            &json!({
                "product_id": id(&product),
                "name": "Plan",
                "currency": "USD",
                "items": [{"name": "Fee", "pricing_model": "FLAT", "amount": 1000}],
            }),
        )
        .await;
        let r = preview(app, &json!({"product_pricing_ids": [id(&theirs)]})).await;
        r.assert_error(422, "product_pricing_ids[0]");
        assert_eq!(r.error_code(), "resource_missing");
        let missing = preview(app, &json!({"product_pricing_ids": ["pp_doesnotexist"]})).await;
        assert_eq!((r.error_type(), r.error_code()), (missing.error_type(), missing.error_code()));
    }

    async fn an_archived_product_pricing_is_refused(app) {
        let (p, _) = plan(app, "USD", json!({"name": "Old plan", "pricing_model": "FLAT", "amount": 1000})).await;
        assert_eq!(quote(app, &json!({"product_pricing_ids": [p]})).await["total_due_today"], 1000);
        app.post_company(&format!("/product_pricings/{p}/archive"), &json!({})).await.ok();
        preview(app, &json!({"product_pricing_ids": [p]})).await.assert_error(422, "product_pricing_ids[0]");
        preview(app, &json!({"onetime_items": [{"product_pricing_id": p}]}))
            .await
            .assert_error(422, "onetime_items[0].product_pricing_id");
    }

    async fn an_empty_order_is_refused(app) {
        preview(app, &json!({})).await.assert_error(422, "product_pricing_ids");
    }

    // ---- 6. Trial and term ------------------------------------------------------------------

    async fn a_trial_moves_recurring_lines_out_of_todays_charge(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["trial_term"] = json!({"count": 14, "frequency": "DAY"});
        let q = quote(app, &body).await;
        // today: only the one-time setup fee (5000); the seats (3000) first charged when the trial ends
        assert_eq!(totals(&q), ((5000, 0, 5000), (3000, 0, 3000)), "{q}");
        assert_eq!(
            (q["lines"][0]["due_today"].as_bool(), q["lines"][1]["due_today"].as_bool()),
            (Some(false), Some(true))
        );
        assert_eq!(q["due_today"]["at"], "2026-01-31T00:00:00Z");
        // 2026-01-31 + 14 days = 2026-02-14
        assert_eq!(q["trial_ends_at"], "2026-02-14T00:00:00Z");
        assert_eq!(q["first_recurring_charge_at"], "2026-02-14T00:00:00Z");
        assert_eq!(q["recurring"][0]["at"], "2026-02-14T00:00:00Z");
        assert_eq!(q["term_ends_at"], Value::Null);
    }

    async fn a_trial_can_be_switched_off_and_needs_a_trial_term(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["trial_term"] = json!({"count": 14, "frequency": "DAY"});
        body["trial"] = json!(false);
        let q = quote(app, &body).await;
        // no trial: 3000 + 5000 = 8000 today, next month on 2026-02-28
        assert_eq!(totals(&q), ((8000, 0, 8000), (3000, 0, 3000)), "{q}");
        assert_eq!(q["trial_ends_at"], Value::Null);
        body.as_object_mut().expect("object").remove("trial_term");
        body["trial"] = json!(true);
        preview(app, &body).await.assert_error(422, "trial_term");
    }

    async fn a_term_ends_and_month_end_charges_clamp(app) {
        let p = app
            .pricing(
                "USD",
                json!([
                    {"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000, "billing_period": monthly()},
                    {"name": "Annual license", "pricing_model": "FLAT", "amount": 12000, "billing_period": yearly()},
                ]),
            )
            .await;
        let mut body = json!({
            "product_pricing_ids": [id(&p)],
            "config_items": [{"product_metric_pricing_id": item_id(&p, 0), "num_licenses": 3}],
            "term": {"count": 12, "frequency": "MONTH"},
            "start_date": "2026-01-31",
        });
        let q = quote(app, &body).await;
        // today: 3 × 1000 + 12000 = 15000
        assert_eq!(q["total_due_today"], 15000, "{q}");
        assert_eq!(q["due_today"]["at"], "2026-01-31T00:00:00Z");
        // 2026-01-31 + 12 months = 2027-01-31
        assert_eq!(q["term_ends_at"], "2027-01-31T00:00:00Z");
        // monthly first, then yearly; Jan 31 + 1 month clamps to Feb 28 (2026 is not a leap year)
        assert_eq!(q["recurring"][0]["billing_period"], monthly());
        assert_eq!(
            (q["recurring"][0]["at"].as_str(), q["recurring"][0]["subtotal"].as_i64()),
            (Some("2026-02-28T00:00:00Z"), Some(3000))
        );
        assert_eq!(q["recurring"][1]["billing_period"], yearly());
        assert_eq!(
            (q["recurring"][1]["at"].as_str(), q["recurring"][1]["subtotal"].as_i64()),
            (Some("2027-01-31T00:00:00Z"), Some(12000))
        );
        assert_eq!(q["first_recurring_charge_at"], "2026-02-28T00:00:00Z");
        assert_eq!(q["trial_ends_at"], Value::Null);
        // In a leap year Jan 31 + 1 month is Feb 29.
        body["start_date"] = json!("2028-01-31");
        assert_eq!(quote(app, &body).await["first_recurring_charge_at"], "2028-02-29T00:00:00Z");
        body["start_date"] = json!("next tuesday");
        preview(app, &body).await.assert_error(422, "start_date");
    }

    // ---- 7. A preview stores nothing --------------------------------------------------------

    async fn a_preview_stores_nothing(app) {
        let (seats, mut body) = seats_and_setup(app).await;
        let code = json!({"code": "SPRING20", "max_redemptions": 10});
        let c = percent_coupon(app, "Spring", json!({"max_redemptions": 10}), code).await;
        body["promo_code"] = json!("SPRING20");
        body["discounts"] = json!([{"type": "DISCOUNT_AMOUNT", "amount": usd(100), "product_id": seats["product_id"]}]);
        let tables = [
            "customers",
            "coupons",
            "promo_codes",
            "products",
            "product_pricings",
            "item_pricings",
            "idempotency_keys",
        ];
        let mut before = Vec::new();
        for t in tables {
            before.push(app.count(t).await);
        }
        for _ in 0..3 {
            quote(app, &body).await;
        }
        let mut after = Vec::new();
        for t in tables {
            after.push(app.count(t).await);
        }
        assert_eq!(before, after, "row counts of {tables:?}");
        // Applying a promo code in a preview does not redeem it.
        let stored = app.get_company(&format!("/coupons/{}", id(&c))).await.ok().clone();
        assert_eq!(stored["times_redeemed"], 0, "{stored}");
        assert_eq!(stored["promo_codes"][0]["times_redeemed"], 0, "{stored}");
    }

    async fn previewing_the_same_order_twice_gives_the_same_quote(app) {
        let (_, mut body) = seats_and_setup(app).await;
        body["discounts"] =
            json!([{"type": "DISCOUNT_PERCENT", "percent": 0.15, "duration": "REPEATING", "duration_periods": 3}]);
        body["term"] = yearly();
        let first = quote(app, &body).await;
        let second = quote(app, &body).await;
        assert_eq!(first, second);
        // 8000 × 0.15 = 1200 off today
        assert_eq!(first["total_due_today"], 6800);
    }

    // ---- 8. One-time items ------------------------------------------------------------------

    async fn a_one_time_product_pricing_is_bought_aggregate_times(app) {
        let (p, item) =
            plan(app, "USD", json!({"name": "Setup", "pricing_model": "PER_UNIT", "unit_amount": 500})).await;
        let q = quote(app, &json!({"onetime_items": [{"product_pricing_id": p, "aggregate": 3}]})).await;
        let line = &q["lines"][0];
        assert_eq!(line["amount"], 1500, "{q}"); // 3 × 500
        assert_eq!(line["quantity"], 3);
        assert_eq!(
            (line["product_pricing_id"].as_str(), line["item_pricing_id"].as_str()),
            (Some(p.as_str()), Some(item.as_str()))
        );
        assert_eq!((line["billing_period"].clone(), line["due_today"].clone()), (Value::Null, json!(true)));
        assert_eq!(q["total_due_today"], 1500);
        assert_eq!((q["recurring"].clone(), q["first_recurring_charge_at"].clone()), (json!([]), Value::Null));
    }

    async fn a_custom_one_time_price_is_named_by_its_description(app) {
        let product = app.product("Workshop").await;
        let custom = |description: Option<&str>| {
            let mut price = json!({"amount": usd(2500), "product_id": product});
            if let Some(d) = description {
                price["description"] = json!(d);
            }
            json!({"onetime_items": [{"custom_price": price, "aggregate": 2, "onetime_billable_id": "ws-1"}]})
        };
        let q = quote(app, &custom(Some("Onboarding workshop"))).await;
        let line = &q["lines"][0];
        assert_eq!(line["name"], "Onboarding workshop", "{q}");
        assert_eq!(line["amount"], 5000); // 2 × 2500
        assert_eq!(line["product_id"], json!(product));
        assert_eq!((line["product_pricing_id"].as_str(), line["item_pricing_id"].as_str()), (Some(""), Some("")));
        assert_eq!(line["onetime_billable_id"], "ws-1");
        assert_eq!((q["currency"].as_str(), q["total_due_today"].as_i64()), (Some("USD"), Some(5000)));
        // Without a description the line takes the product's name.
        assert_eq!(quote(app, &custom(None)).await["lines"][0]["name"], "Workshop");
    }

    async fn a_recurring_pricing_cannot_be_a_one_time_item(app) {
        let (p, _) = plan(
            app,
            "USD",
            json!({"name": "Seats", "pricing_model": "PER_UNIT", "unit_amount": 1000, "billing_period": monthly()}),
        )
        .await;
        preview(app, &json!({"onetime_items": [{"product_pricing_id": p, "aggregate": 1}]}))
            .await
            .assert_error(422, "onetime_items[0].product_pricing_id");
    }
}
