-- Foundation: tenants, API keys, idempotency, catalog, customers.
-- Money is BIGINT minor units beside a currency code; fractional unit prices and percents are
-- decimal strings (TEXT) parsed by rust_decimal; timestamps are UTC.

CREATE TABLE companies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    legal_name TEXT,
    currency TEXT NOT NULL,
    brand_color TEXT,
    logo_url TEXT,
    support_email TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE idempotency_keys (
    company_id TEXT NOT NULL REFERENCES companies(id),
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status INTEGER,
    response_body BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    name TEXT NOT NULL,
    description TEXT,
    external_id TEXT,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX products_company ON products (company_id, id);

CREATE TABLE product_pricings (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX product_pricings_company ON product_pricings (company_id, id);

CREATE TABLE item_pricings (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    product_pricing_id TEXT NOT NULL REFERENCES product_pricings(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    unit_label TEXT,
    pricing_model TEXT NOT NULL,
    model_config TEXT NOT NULL,
    period_unit TEXT,
    period_count INTEGER,
    included_units BIGINT NOT NULL,
    minimum_spend BIGINT,
    metered BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX item_pricings_pricing ON item_pricings (product_pricing_id, position);

CREATE TABLE coupons (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    name TEXT NOT NULL,
    discount_type TEXT NOT NULL,
    percent TEXT,
    amount BIGINT,
    currency TEXT,
    cap BIGINT,
    scope_type TEXT NOT NULL,
    scope_id TEXT,
    duration TEXT NOT NULL,
    duration_periods INTEGER,
    expires_at TIMESTAMPTZ,
    max_redemptions INTEGER,
    times_redeemed INTEGER NOT NULL DEFAULT 0,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX coupons_company ON coupons (company_id, id);

CREATE TABLE promo_codes (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    coupon_id TEXT NOT NULL REFERENCES coupons(id),
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    max_redemptions INTEGER,
    times_redeemed INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (company_id, code_key)
);
CREATE INDEX promo_codes_coupon ON promo_codes (coupon_id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    email TEXT,
    name TEXT,
    org_name TEXT,
    identifier TEXT,
    phone TEXT,
    address_line1 TEXT,
    address_line2 TEXT,
    address_city TEXT,
    address_state TEXT,
    address_postal_code TEXT,
    address_country TEXT,
    metadata TEXT NOT NULL,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (company_id, identifier)
);
CREATE INDEX customers_company ON customers (company_id, id);
