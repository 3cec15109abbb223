//! The life of a checkout session: its statuses and which transitions between them are allowed.
//!
//! ```text
//! CREATED ──(customer submits payment)──▶ AWAITING_PAYMENT ──(paid / accepted)──▶ COMPLETED
//!    │  └──────────────(nothing to pay, or paid at once)──────────────────────────▲
//!    ├──▶ EXPIRED    (expires_at passed; from CREATED or AWAITING_PAYMENT)
//!    └──▶ CANCELLED  (merchant cancelled; from CREATED or AWAITING_PAYMENT)
//! ```
//! COMPLETED, EXPIRED and CANCELLED are final. The database enforces each transition with a
//! compare-and-set (`UPDATE … WHERE status IN (…)`), so only one of several racing requests wins.

/// Where a checkout session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Created,
    AwaitingPayment,
    Completed,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Created, Status::AwaitingPayment, Status::Completed, Status::Expired, Status::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "CREATED",
            Status::AwaitingPayment => "AWAITING_PAYMENT",
            Status::Completed => "COMPLETED",
            Status::Expired => "EXPIRED",
            Status::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether the customer can still act on the session (change the order, pay).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Created | Status::AwaitingPayment)
    }

    /// The statuses from which `to` may be reached.
    pub fn sources(to: Status) -> &'static [Status] {
        match to {
            Status::Created => &[],
            Status::AwaitingPayment => &[Status::Created, Status::AwaitingPayment],
            Status::Completed | Status::Expired | Status::Cancelled => &[Status::Created, Status::AwaitingPayment],
        }
    }

    pub fn can_become(self, to: Status) -> bool {
        Status::sources(to).contains(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_never_change() {
        for from in [Status::Completed, Status::Expired, Status::Cancelled] {
            for to in Status::ALL {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn open_sessions_can_complete_expire_or_be_cancelled() {
        for from in [Status::Created, Status::AwaitingPayment] {
            assert!(from.is_open());
            for to in [Status::Completed, Status::Expired, Status::Cancelled, Status::AwaitingPayment] {
                assert!(from.can_become(to), "{from:?} -> {to:?}");
            }
            assert!(!from.can_become(Status::Created));
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("completed"), Some(Status::Completed));
        assert_eq!(Status::parse("DONE"), None);
    }
}
