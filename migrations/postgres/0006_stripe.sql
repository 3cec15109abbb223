-- Stripe: which provider a company collects card payments with, the Stripe Customer each of
-- our customers is mirrored as, and the provider events already handled (each exactly once).

-- 'sandbox' (test cards, the offline default) or 'stripe'.
ALTER TABLE companies ADD COLUMN payment_provider TEXT NOT NULL DEFAULT 'sandbox';
-- The provider's customer handle (Stripe's cus_…), set once the customer first pays.
ALTER TABLE customers ADD COLUMN provider_customer_ref TEXT;
-- The provider customer a saved method belongs to (Stripe charges it off-session by both).
ALTER TABLE payment_methods ADD COLUMN provider_customer_ref TEXT;
CREATE INDEX payments_provider_ref ON payments (provider_ref);
-- Refunded so far (charge.refunded), minor units; never more than amount.
ALTER TABLE payments ADD COLUMN amount_refunded BIGINT NOT NULL DEFAULT 0;

CREATE TABLE provider_events (
    -- The provider's event id (Stripe's evt_…): a repeat delivery finds it and does nothing.
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    type TEXT NOT NULL,
    -- The object the event is about (pi_…, seti_…, ch_…) and our payment, when known.
    object_id TEXT,
    payment_id TEXT,
    payload TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    -- Set once handling finished: a redelivery of an unhandled event (a crash) is handled again.
    handled_at TIMESTAMPTZ
);
