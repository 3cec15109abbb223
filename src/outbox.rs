//! Background delivery of signed merchant webhooks (in progress).
