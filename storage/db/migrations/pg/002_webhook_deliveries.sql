-- The webhook delivery ledger, shared by every webhook process of the distributed mode
-- (SqlDeliveryLedger in connectors/webhook/delivery-ledger.ts): which receivers already have which alert event.
CREATE TABLE webhook_deliveries (
  event_id         TEXT NOT NULL,
  url              TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'gave_up')),
  attempts         INTEGER NOT NULL,
  first_attempt_at BIGINT NOT NULL, -- epoch ms: the give-up deadline counts from here
  updated_at       BIGINT NOT NULL, -- epoch ms: pruning after a week
  last_error       TEXT,
  PRIMARY KEY (event_id, url)
);

CREATE INDEX webhook_deliveries_updated_at ON webhook_deliveries (updated_at);

-- Who is POSTing an (event, receiver) right now, until when: two processes briefly owning the same
-- partition during a rebalance never POST the same event to the same receiver at the same time.
CREATE TABLE webhook_delivery_claims (
  event_id    TEXT NOT NULL,
  url         TEXT NOT NULL,
  owner       TEXT NOT NULL,
  lease_until BIGINT NOT NULL,     -- epoch ms on the database clock
  PRIMARY KEY (event_id, url)
);
