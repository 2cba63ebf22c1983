-- order.held events carried their Rust variant name as the payload's "type"
-- (its serde rename had been lost in an edit), though the stored event_type
-- was right. Readers of the outbox parse payloads by that tag.
update event set payload = replace(payload, '"type":"OrderHeld"', '"type":"order.held"')
    where event_type = 'order.held';
