-- The command center's exception queues (#6): a projection the event stream
-- maintains. Each item is a record that needs a person (an order held for a
-- failed payment, a pick past its ship-by time, an item out of stock), with
-- the role that owns it, an optional assignee, and an SLA clock. The
-- projector re-evaluates the records each event touches and opens or closes
-- items to match; people assign, snooze and resolve them.
create table exception_item (
    exception_id text primary key,
    -- payment | holds | stuck | late_picks | stockouts | integration
    queue text not null,
    -- order | fulfillment | product | import
    entity text not null,
    entity_id text not null,
    -- What a person calls the record (order number, SKU), and where to act.
    entity_ref text not null,
    link text not null,
    reason text not null,
    detail text not null,
    owner_role text not null,
    assignee_id text references app_user (user_id),
    assignee_name text,
    warehouse_code text,
    channel_code text,
    -- open | snoozed | resolved (by a person) | closed (its condition ended)
    status text not null,
    -- A resolved item whose condition has since ended (it may open again).
    cleared smallint not null default 0,
    opened_at bigint not null,
    sla_due_at bigint not null,
    snoozed_until bigint,
    snooze_reason text,
    closed_at bigint,
    closed_by text,
    resolution text,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null
);
-- One live item per (queue, record, reason); the projector relies on it.
create unique index exception_item_live_key on exception_item (queue, entity_id, reason)
    where status in ('open', 'snoozed');
-- The queue pages: live items oldest first, per queue or all.
create index exception_item_live_idx on exception_item (opened_at, exception_id)
    where status in ('open', 'snoozed');
create index exception_item_queue_idx on exception_item (queue, opened_at, exception_id)
    where status in ('open', 'snoozed');
-- The dashboard's capped counts: open per queue, past SLA per queue, and
-- snoozes, each walked along its own index so a count stops at its cap.
create index exception_item_state_idx on exception_item (queue, status)
    where status in ('open', 'snoozed');
create index exception_item_sla_idx on exception_item (queue, sla_due_at)
    where status in ('open', 'snoozed');
create index exception_item_snoozed_idx on exception_item (queue, snoozed_until)
    where status = 'snoozed';
create index exception_item_entity_idx on exception_item (entity_id);
create index exception_item_closed_idx on exception_item (closed_at, exception_id)
    where closed_at is not null;
create index exception_item_queue_closed_idx on exception_item (queue, closed_at, exception_id)
    where closed_at is not null;

-- When a record should next be evaluated because a condition may begin with
-- time alone (a pending payment's window, the stuck age, a ship-by time).
-- The projector sets it whenever it evaluates an order; the sweep reads only
-- what is due, so its cost follows the deadlines passing, not the backlog.
create table exception_timer (
    entity_id text primary key,
    due_at bigint not null
);
create index exception_timer_due_idx on exception_timer (due_at);

-- How far each projection has read the outbox. A projector advances its row
-- with a conditional update in the same transaction as its changes, so two
-- instances never apply the same events twice.
create table projection_cursor (
    name text primary key,
    seq bigint not null
);
insert into projection_cursor (name, seq) values ('exceptions', 0);
