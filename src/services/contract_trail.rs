//! A contract's audit trail: who did what and when (with the client address and user agent), and
//! the entries and event fulfilment writes when a contract's payment completes it.

use chrono::{DateTime, Utc};

use crate::db::billing::Invoice;
use crate::db::contracts::{self as store, Contract, Signer};
use crate::db::tx::Tx;
use crate::domain::contract::Status;
use crate::domain::ids::{self, prefix};
use crate::services::error::ServiceResult;
use crate::services::events::{self, ContractCompleted, Event};

/// Who did something, for the audit trail.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// The merchant, through the API.
    pub fn api() -> Actor {
        Actor { ip: None, user_agent: Some("merchant API".into()) }
    }
}

/// Write one audit-trail entry.
pub async fn trail(
    tx: &mut Tx,
    contract: &Contract,
    kind: &str,
    signer: Option<&Signer>,
    actor: &Actor,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let event = store::Event {
        id: ids::new_id(prefix::CONTRACT_EVENT, now),
        company_id: contract.company_id.clone(),
        contract_id: contract.id.clone(),
        kind: kind.to_string(),
        signer_id: signer.map(|s| s.id.clone()),
        ip: actor.ip.clone(),
        user_agent: actor.user_agent.as_ref().map(|u| u.chars().take(400).collect()),
        detail,
        at: now,
    };
    store::insert_event(tx, &event).await?;
    Ok(())
}

/// The contract part of fulfilment (called by `fulfillment::fulfil_in` after it completed the
/// contract): the audit trail and `contract.completed`.
pub async fn completed_in(
    tx: &mut Tx,
    contract: &Contract,
    customer_id: &str,
    subscription_id: Option<&str>,
    invoice: &Invoice,
    paid: bool,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let actor = Actor::default();
    if paid && invoice.total > 0 {
        trail(tx, contract, "PAID", None, &actor, Some(format!("invoice {}", invoice.number)), now).await?;
    }
    trail(tx, contract, "COMPLETED", None, &actor, None, now).await?;
    let event = ContractCompleted {
        contract_id: contract.id.clone(),
        customer_id: customer_id.to_string(),
        subscription_id: subscription_id.map(str::to_string),
        invoice_id: invoice.id.clone(),
        checkout_id: contract.checkout_id.clone(),
        status: Status::Complete.as_str().to_string(),
    };
    events::raise(tx, &contract.company_id, Event::ContractCompleted(event), now).await?;
    Ok(())
}
