-- Units per hour read pick tasks by when they were picked. The index is
-- partial because a task gets its time only when picked: waves insert
-- thousands of tasks at once, and none of them need an entry until then.
drop index pick_task_agent_idx;
create index pick_task_picked_idx on pick_task (picked_at) where picked_at is not null;
