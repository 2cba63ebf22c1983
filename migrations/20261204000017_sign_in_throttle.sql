-- Trust (#19): the sign-in throttle, one row per account and address.
-- Every attempt counts itself here before its password is checked, in one
-- upsert, so parallel attempts can't all slip under the limit; a success
-- clears the row. Per account and address, so failures from elsewhere don't
-- lock the real person out.
create table sign_in_throttle (
    throttle_key text primary key,
    failures bigint not null,
    window_start bigint not null
);
