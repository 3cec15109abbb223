//! The life of a contract: its statuses, the transitions between them, and whose turn it is to sign.
//!
//! ```text
//! DRAFT ──finalize──▶ PENDING_SIGNATURES ──(all customer signatories signed)──▶ PENDING_COUNTER_SIGNATURE
//!                        │                                                        │ (counter-signatories signed)
//!                        ├───────(no counter-signatories)────────────┬────────────┘
//!                        │                                           ▼
//!                        │                       PENDING_PAYMENT (require_payment_method) ──paid──▶ COMPLETE
//!                        │                                           └──(no payment needed)────────▶ COMPLETE
//!                        ├──▶ DECLINED  (a signatory declined; from PENDING_SIGNATURES / PENDING_COUNTER_SIGNATURE)
//!  any open status ─────┼──▶ EXPIRED   (expiration_date passed)
//!                        └──▶ VOID      (the merchant voided it)
//! ```
//! COMPLETE, DECLINED, EXPIRED and VOID are final. Each transition is a compare-and-set in the
//! database (`UPDATE … WHERE status IN (…)`), so of racing requests only one wins.
//!
//! Signing order: customer signatories first — in `position` order when the contract asks for
//! sequential signing, otherwise in any order — then the counter-signatories, likewise.

use chrono::{DateTime, Utc};

use super::money::MAX_MINOR;
use super::pricing::Quote;
use super::term::{Period, PeriodUnit};

/// Where a contract stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Draft,
    PendingSignatures,
    PendingCounterSignature,
    PendingPayment,
    Complete,
    Declined,
    Expired,
    Void,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::PendingSignatures,
        Status::PendingCounterSignature,
        Status::PendingPayment,
        Status::Complete,
        Status::Declined,
        Status::Expired,
        Status::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "DRAFT",
            Status::PendingSignatures => "PENDING_SIGNATURES",
            Status::PendingCounterSignature => "PENDING_COUNTER_SIGNATURE",
            Status::PendingPayment => "PENDING_PAYMENT",
            Status::Complete => "COMPLETE",
            Status::Declined => "DECLINED",
            Status::Expired => "EXPIRED",
            Status::Void => "VOID",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether signatures are being collected.
    pub fn is_signing(self) -> bool {
        matches!(self, Status::PendingSignatures | Status::PendingCounterSignature)
    }

    /// Whether the contract can still move on (not final).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::PendingSignatures | Status::PendingCounterSignature | Status::PendingPayment
        )
    }

    /// The statuses from which `to` may be reached.
    pub fn sources(to: Status) -> &'static [Status] {
        match to {
            Status::Draft => &[],
            Status::PendingSignatures => &[Status::Draft],
            Status::PendingCounterSignature => &[Status::PendingSignatures],
            Status::PendingPayment => &[Status::PendingSignatures, Status::PendingCounterSignature],
            Status::Complete => &[Status::PendingSignatures, Status::PendingCounterSignature, Status::PendingPayment],
            Status::Declined => &[Status::PendingSignatures, Status::PendingCounterSignature],
            Status::Expired | Status::Void => {
                &[Status::Draft, Status::PendingSignatures, Status::PendingCounterSignature, Status::PendingPayment]
            }
        }
    }

    pub fn can_become(self, to: Status) -> bool {
        Status::sources(to).contains(&self)
    }
}

/// Which side a signer signs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The customer's side.
    Signatory,
    /// The merchant's side; signs after every customer signatory.
    Counter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Signatory => "SIGNATORY",
            Role::Counter => "COUNTER",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Signatory, Role::Counter].into_iter().find(|r| r.as_str() == s)
    }
}

/// A signer as the turn rules see them.
#[derive(Clone, Copy, Debug)]
pub struct Signer {
    pub role: Role,
    pub position: i64,
    pub signed: bool,
}

/// Whether signer `who` (an index into `signers`) may sign now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    Now,
    /// They have signed already.
    Done,
    /// Someone before them has not signed yet.
    Waiting,
}

/// Whose turn it is: customer signatories before counter-signatories; within a side, in
/// `position` order when `sequential`, otherwise anyone unsigned of the side that is due.
pub fn turn(signers: &[Signer], who: usize, sequential: bool) -> Turn {
    let Some(me) = signers.get(who) else { return Turn::Waiting };
    if me.signed {
        return Turn::Done;
    }
    let customers_done = signers.iter().all(|s| s.role == Role::Counter || s.signed);
    if me.role == Role::Counter && !customers_done {
        return Turn::Waiting;
    }
    if sequential {
        let before = signers
            .iter()
            .enumerate()
            .any(|(i, s)| i != who && s.role == me.role && !s.signed && (s.position, i) < (me.position, who));
        if before {
            return Turn::Waiting;
        }
    }
    Turn::Now
}

/// Where the contract goes once everyone in `signers` has signed what they have signed so far.
/// `None` while signatures are still missing on the side that is due.
pub fn after_signatures(signers: &[Signer], require_payment: bool) -> Option<Status> {
    let customers_done = signers.iter().filter(|s| s.role == Role::Signatory).all(|s| s.signed);
    let counters_done = signers.iter().filter(|s| s.role == Role::Counter).all(|s| s.signed);
    match (customers_done, counters_done) {
        (false, _) => None,
        (true, false) => Some(Status::PendingCounterSignature),
        (true, true) if require_payment => Some(Status::PendingPayment),
        (true, true) => Some(Status::Complete),
    }
}

/// A contract's value in minor units of the quote's currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Values {
    /// Annual contract value: the recurring charges that fall in the contract's first year, at
    /// the regular rate (no one-time fees).
    pub acv: i64,
    /// Total contract value: today's charge plus every recurring charge until the term ends (a
    /// year when the contract has no term).
    pub tcv: i64,
}

/// How many charges of `period`, starting at `first`, fall before `end` (capped: hourly charges
/// over decades must not loop for long, and no money figure goes past `MAX_MINOR` anyway).
fn charges_before(period: Period, first: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let mut n: u32 = 0;
    while n < 100_000 {
        match period.add_to(first, n) {
            Some(at) if at < end => n += 1,
            _ => break,
        }
    }
    i64::from(n)
}

/// ACV and TCV of `quote`, priced at `start`.
pub fn values(quote: &Quote, start: DateTime<Utc>) -> Values {
    let one_year = Period { count: 1, unit: PeriodUnit::Year };
    let year_end = one_year.add_to(start, 1).unwrap_or(start);
    let term_end = quote.term_ends_at.unwrap_or(year_end);
    // Without a trial the first period is paid today; with one, billing starts when it ends.
    let billing_starts = quote.trial_ends_at.unwrap_or(start);
    let mut acv: i64 = 0;
    let mut tcv: i64 = quote.due_today.total;
    for r in &quote.recurring {
        let amount = r.charge.total;
        acv = acv.saturating_add(amount.saturating_mul(charges_before(r.period, billing_starts, year_end)));
        tcv = tcv.saturating_add(amount.saturating_mul(charges_before(r.period, r.charge.at, term_end)));
    }
    Values { acv: acv.min(MAX_MINOR), tcv: tcv.min(MAX_MINOR) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(role: Role, position: i64, signed: bool) -> Signer {
        Signer { role, position, signed }
    }

    #[test]
    fn every_status_parses_back_from_its_name() {
        for st in Status::ALL {
            assert_eq!(Status::parse(st.as_str()), Some(st));
        }
        assert_eq!(Status::parse("SIGNED"), None);
    }

    #[test]
    fn final_statuses_lead_nowhere() {
        for from in [Status::Complete, Status::Declined, Status::Expired, Status::Void] {
            assert!(!from.is_open());
            for to in Status::ALL {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn a_draft_is_finalized_before_anyone_signs_and_can_be_voided_or_expire() {
        assert!(Status::Draft.can_become(Status::PendingSignatures));
        assert!(Status::Draft.can_become(Status::Void));
        assert!(Status::Draft.can_become(Status::Expired));
        assert!(!Status::Draft.can_become(Status::Complete));
        assert!(!Status::Draft.can_become(Status::Declined));
    }

    #[test]
    fn a_contract_awaiting_payment_can_no_longer_be_declined() {
        assert!(!Status::PendingPayment.can_become(Status::Declined));
        assert!(Status::PendingPayment.can_become(Status::Complete));
    }

    #[test]
    fn sequential_signing_follows_position_not_list_order() {
        let signers = [s(Role::Signatory, 2, false), s(Role::Signatory, 1, false), s(Role::Counter, 1, false)];
        assert_eq!(turn(&signers, 1, true), Turn::Now);
        assert_eq!(turn(&signers, 0, true), Turn::Waiting);
        assert_eq!(turn(&signers, 2, true), Turn::Waiting);
    }

    #[test]
    fn parallel_signing_lets_any_customer_sign_but_counter_signers_wait() {
        let signers = [s(Role::Signatory, 1, false), s(Role::Signatory, 2, false), s(Role::Counter, 1, false)];
        assert_eq!(turn(&signers, 0, false), Turn::Now);
        assert_eq!(turn(&signers, 1, false), Turn::Now);
        assert_eq!(turn(&signers, 2, false), Turn::Waiting);
    }

    #[test]
    fn counter_signers_sign_once_every_customer_has() {
        let signers = [s(Role::Signatory, 1, true), s(Role::Counter, 1, false), s(Role::Counter, 2, false)];
        assert_eq!(turn(&signers, 1, true), Turn::Now);
        assert_eq!(turn(&signers, 2, true), Turn::Waiting);
        assert_eq!(turn(&signers, 2, false), Turn::Now);
        assert_eq!(turn(&signers, 0, false), Turn::Done);
    }

    #[test]
    fn the_last_signature_leads_to_payment_or_completion() {
        let open = [s(Role::Signatory, 1, true), s(Role::Signatory, 2, false)];
        assert_eq!(after_signatures(&open, true), None);
        let counter = [s(Role::Signatory, 1, true), s(Role::Counter, 1, false)];
        assert_eq!(after_signatures(&counter, true), Some(Status::PendingCounterSignature));
        let all = [s(Role::Signatory, 1, true), s(Role::Counter, 1, true)];
        assert_eq!(after_signatures(&all, true), Some(Status::PendingPayment));
        assert_eq!(after_signatures(&all, false), Some(Status::Complete));
    }
}
