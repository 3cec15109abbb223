-- Contracts: templates, the contract (a checkout its signatories sign before it is paid and
-- fulfilled), its signers, its audit trail, and files attached to it.

CREATE TABLE contract_templates (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    title TEXT NOT NULL,
    -- The Markdown-subset body with {{variables}} (see domain::document).
    body TEXT NOT NULL,
    -- The variable names the body uses, JSON array.
    variables TEXT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contract_templates_company ON contract_templates (company_id, id);

CREATE TABLE contracts (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    -- The order, payment and fulfilment live in this checkout session (source CONTRACT).
    checkout_id TEXT NOT NULL UNIQUE REFERENCES checkout_sessions(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    template_id TEXT REFERENCES contract_templates(id),
    -- The template body as it was when the contract was made.
    content_template TEXT,
    -- The rendered document (HTML from domain::document), frozen at finalize.
    content TEXT NOT NULL,
    -- SHA-256 of title and content, set at finalize; every signature must match it.
    document_hash TEXT,
    custom_variables TEXT NOT NULL,
    -- ACV and TCV (domain::contract::values) as of creation, then as signed; minor units of currency.
    currency TEXT NOT NULL,
    acv INTEGER NOT NULL,
    tcv INTEGER NOT NULL,
    sequential BOOLEAN NOT NULL,
    require_payment_method BOOLEAN NOT NULL,
    start_date TEXT,
    expiration_date TEXT,
    owner_id TEXT,
    -- Fields echoed back as given (auto_charges, auto_renews, type), JSON.
    extra TEXT NOT NULL,
    metadata TEXT NOT NULL,
    signed_offline BOOLEAN NOT NULL,
    offline_note TEXT,
    signed_file_id TEXT,
    finalized_at TEXT,
    signed_at TEXT,
    completed_at TEXT,
    closed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contracts_company ON contracts (company_id, id);
CREATE INDEX contracts_expiry ON contracts (status, expiration_date);

CREATE TABLE contract_signers (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    -- SIGNATORY (the customer's side) or COUNTER (the merchant's side).
    role TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    title TEXT,
    -- The personal signing link's secret.
    token TEXT NOT NULL UNIQUE,
    signed_at TEXT,
    signed_name TEXT,
    signed_title TEXT,
    -- A drawn signature as a PNG data URL, when one was drawn.
    signature_image TEXT,
    -- The document hash this signature applies to.
    signed_hash TEXT,
    declined_at TEXT,
    decline_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contract_signers_contract ON contract_signers (contract_id, role, position);

-- The audit trail: every event with time, IP address, user agent and signer.
CREATE TABLE contract_events (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    kind TEXT NOT NULL,
    signer_id TEXT REFERENCES contract_signers(id),
    ip TEXT,
    user_agent TEXT,
    detail TEXT,
    at TEXT NOT NULL
);
CREATE INDEX contract_events_contract ON contract_events (contract_id, id);

-- Files attached to a contract (a contract signed on paper, uploaded).
CREATE TABLE contract_files (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX contract_files_contract ON contract_files (contract_id);
