-- Marketplace order reports: the column mapping a channel's report uses
-- (order field → column header, JSON), saved on the first import.
alter table channel add column report_mapping_json text;

-- What a job needs besides its file: for an order report, the channel and
-- the mapping it was staged with (JSON).
alter table import_job add column options_json text;
