-- One-time charges: billables a merchant adds to a customer's account (invoiced now or on
-- their next invoice), payment methods saved at checkout for later charges, and what an
-- invoice made outside a checkout needs (notes, its own payment lock).

ALTER TABLE invoices ADD COLUMN notes TEXT;
-- While set and in the future, one payment attempt from the hosted invoice page is in flight.
ALTER TABLE invoices ADD COLUMN paying_until TEXT;
CREATE INDEX invoices_customer ON invoices (customer_id, id);
CREATE INDEX payments_invoice ON payments (invoice_id);

CREATE TABLE onetime_billables (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    -- The billables created by one request share a batch and are invoiced together.
    batch_id TEXT NOT NULL,
    -- IMMEDIATE or NEXT.
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    aggregate INTEGER NOT NULL,
    product_pricing_id TEXT REFERENCES product_pricings(id),
    -- The request's custom_price and quantity_config, JSON (null when absent).
    custom_price TEXT,
    quantity_config TEXT,
    sort_order INTEGER NOT NULL,
    auto_charges BOOLEAN NOT NULL,
    -- The priced lines of this billable, and (on the first billable of a batch) the batch's
    -- discount lines, JSON: invoicing copies them, so a later price change never alters them.
    lines TEXT NOT NULL,
    discounts TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    discount_total INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    notes TEXT,
    -- Set exactly once, by the transaction that puts the billable on an invoice.
    invoice_id TEXT REFERENCES invoices(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX onetime_billables_customer ON onetime_billables (customer_id, invoice_id);
CREATE INDEX onetime_billables_company ON onetime_billables (company_id, id);

CREATE TABLE payment_methods (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    provider TEXT NOT NULL,
    -- The provider's handle for the saved method; never card data.
    provider_ref TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL,
    checkout_id TEXT REFERENCES checkout_sessions(id),
    created_at TEXT NOT NULL
);
CREATE INDEX payment_methods_customer ON payment_methods (customer_id, id);
