-- A payment method to keep once its payment succeeds: a card the customer agreed to save that
-- first needs their bank's confirmation on the challenge page, which never sees the card again.
-- JSON of the provider's handle, brand, last four digits and expiry; never a card number.
ALTER TABLE payments ADD COLUMN keep_method TEXT;
