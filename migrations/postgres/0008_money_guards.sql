-- What a checkout counts in its promo code's and coupons' times_redeemed, as JSON
-- {"promo_code_id", "coupon_ids"}: taken (under the limit, in one compare-and-set) before the card is
-- charged, kept when the order completes, given back when the payment fails or the session closes.
ALTER TABLE checkout_sessions ADD COLUMN redemption_counted TEXT;

-- Fixed-window attempt counters (promo codes per checkout and per client address), shared by
-- every instance: one upsert per attempt; the sweeper deletes windows long past.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- When Kasse told the merchant (payment.requires_refund) that this payment took money for an
-- order it could not complete; the reconciler leaves such payments alone.
ALTER TABLE payments ADD COLUMN requires_refund_at TIMESTAMPTZ;
-- The reconciler's search: succeeded payments not (yet) on an invoice.
CREATE INDEX payments_unsettled ON payments (status, invoice_id);

-- Whether the company's Stripe checkouts offer SEPA Direct Debit (for euros); it must be activated
-- in the Stripe account first, so it is off until the merchant says so (`kasse company set-provider --sepa-debit`).
ALTER TABLE companies ADD COLUMN sepa_debit BOOLEAN NOT NULL DEFAULT FALSE;
