-- The contract page asks when its signer last viewed it (`MAX(at) … WHERE signer_id = ? AND kind =
-- 'VIEWED'`): without this index that scans every tenant's events on every view.
CREATE INDEX contract_events_signer_kind ON contract_events (signer_id, kind, at);
