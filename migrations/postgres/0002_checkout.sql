-- Hosted checkout: sessions, reusable links, what fulfilment creates (subscriptions, invoices,
-- payments), and the merchant-webhook outbox.

-- Server-wide settings shared by every instance (e.g. the key that signs preview links).
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Per-company counters (gap-free invoice numbers).
CREATE TABLE company_counters (
    company_id TEXT NOT NULL REFERENCES companies(id),
    name TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (company_id, name)
);

CREATE TABLE checkout_links (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    -- The link's body as created (items, options, after-checkout action), JSON.
    spec TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkout_links_company ON checkout_links (company_id, id);

CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    token TEXT NOT NULL UNIQUE,
    -- Which API made it: CHECKOUT (seed 000), SESSION (seed 001), LINK.
    source TEXT NOT NULL,
    link_id TEXT REFERENCES checkout_links(id),
    status TEXT NOT NULL,
    customer_id TEXT REFERENCES customers(id),
    currency TEXT NOT NULL,
    -- The order (plans, quantities, one-time items, discounts, term, trial), JSON.
    order_spec TEXT NOT NULL,
    -- How the page behaves (promo codes, address, completion action, ...), JSON.
    options TEXT NOT NULL,
    -- What the customer has entered so far (quantities, promo code, contact, address), JSON.
    entered TEXT NOT NULL,
    -- Fields echoed back in the seed-001 shape, JSON.
    extra TEXT NOT NULL,
    metadata TEXT NOT NULL,
    locale TEXT,
    expires_at TIMESTAMPTZ,
    -- A payment attempt holds this until it finishes, so concurrent submits charge once.
    paying_until TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    subscription_id TEXT,
    invoice_id TEXT,
    payment_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkout_sessions_company ON checkout_sessions (company_id, id);
CREATE INDEX checkout_sessions_expiry ON checkout_sessions (status, expires_at);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    checkout_id TEXT REFERENCES checkout_sessions(id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    trial_ends_at TIMESTAMPTZ,
    next_charge_at TIMESTAMPTZ,
    term_ends_at TIMESTAMPTZ,
    billing_day_anchor INTEGER,
    -- Items with quantities, discounts and the quote they were bought at, JSON.
    details TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX subscriptions_checkout ON subscriptions (checkout_id);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    subscription_id TEXT REFERENCES subscriptions(id),
    checkout_id TEXT REFERENCES checkout_sessions(id),
    number TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    discount_total BIGINT NOT NULL,
    total BIGINT NOT NULL,
    amount_due BIGINT NOT NULL,
    -- Lines and discount lines, JSON.
    lines TEXT NOT NULL,
    payment_instructions TEXT,
    issued_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ,
    paid_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (company_id, number)
);
CREATE UNIQUE INDEX invoices_checkout ON invoices (checkout_id);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    checkout_id TEXT REFERENCES checkout_sessions(id),
    invoice_id TEXT REFERENCES invoices(id),
    provider TEXT NOT NULL,
    provider_ref TEXT,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    failure_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX payments_checkout ON payments (checkout_id);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    url TEXT NOT NULL,
    -- JSON array of event types; empty means every type.
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_company ON webhook_endpoints (company_id, id);

-- One row per event; written in the same transaction as the change it reports.
CREATE TABLE outbox_events (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_events_company ON outbox_events (company_id, id);

-- One row per (event, endpoint); a worker claims due rows and retries with backoff.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    event_id TEXT NOT NULL REFERENCES outbox_events(id),
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
