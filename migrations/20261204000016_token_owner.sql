-- Trust (#19): a token works only while the person who issued it may still
-- act. The owner is the user who created it (or, for a token made with a
-- token, that token's owner); NULL for tokens the CLI issued, which only an
-- operator on the machine can revoke.
alter table api_token add column owner_user_id text;
