//! Store tests for governance, audit and events. Each runs on SQLite and on
//! PostgreSQL (see `backend::testing`).

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    governance::{self, AuditFilter, NewUser, UserUpdate},
    inventory::{self, WarehouseInput},
    store_test, Actor, ActorKind, Ctx, Db, Error, Idempotency,
};
use domain::governance::{Permission, Role, Scope};

const PASSWORD: &str = "correct horse battery staple";

fn admin() -> Ctx {
    Ctx::system("test")
}

fn as_role(role: Role) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some(format!("user-{role}")),
            name: format!("{role}@test.example"),
            role: Some(role),
            scope: Scope::default(),
        },
        None,
    )
}

async fn new_user(db: &Db, email: &str, role: &str) -> governance::User {
    governance::create_user(
        db,
        &admin(),
        NewUser {
            email: email.into(),
            name: "Test Person".into(),
            role: role.into(),
            password: PASSWORD.into(),
            scope: Scope::default(),
        },
        None,
    )
    .await
    .expect("create user")
}

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select cast(count(*) as bigint) from {table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

store_test!(
    creating_a_user_writes_its_audit_row_and_event_together,
    |db: Db| async move {
        let user = new_user(&db, "Maya@Example.com", "manager").await;
        assert_eq!(user.email, "maya@example.com");
        let audit = governance::list_audit(
            &db,
            &admin(),
            &AuditFilter {
                entity: Some("user".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(audit.items.len(), 1);
        assert_eq!(audit.items[0].action, "user.create");
        assert_eq!(audit.items[0].actor_name, "test");
        assert!(audit.items[0].before.is_none());
        assert_eq!(
            audit.items[0].after.as_ref().unwrap()["email"],
            "maya@example.com"
        );
        let events = governance::events_after(&db, 0, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].seq, events[0].event_type.as_str(), events[0].v),
            (1, "user.created", 1)
        );
        assert_eq!(events[0].data["role"], "manager");
    }
);

store_test!(
    invalid_or_duplicate_users_are_refused_and_change_nothing,
    |db: Db| async move {
        new_user(&db, "maya@example.com", "manager").await;
        let before = (
            count(&db, "app_user").await,
            count(&db, "audit_log").await,
            count(&db, "event").await,
        );
        let dup = governance::create_user(
            &db,
            &admin(),
            NewUser {
                email: "MAYA@example.com".into(),
                name: "Maya".into(),
                role: "manager".into(),
                password: PASSWORD.into(),
                scope: Scope::default(),
            },
            None,
        )
        .await;
        match dup {
            Err(Error::Invalid(f)) => assert_eq!(
                (f[0].field.as_str(), f[0].message.as_str()),
                ("email", "a user with this email already exists")
            ),
            other => panic!("expected a field error, got {other:?}"),
        }
        let bad = governance::create_user(
            &db,
            &admin(),
            NewUser {
                email: "nope".into(),
                name: "".into(),
                role: "root".into(),
                password: "short".into(),
                scope: Scope::default(),
            },
            None,
        )
        .await;
        match bad {
            Err(Error::Invalid(f)) => assert_eq!(
                f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
                vec!["email", "name", "role", "password"]
            ),
            other => panic!("expected field errors, got {other:?}"),
        }
        assert_eq!(
            (
                count(&db, "app_user").await,
                count(&db, "audit_log").await,
                count(&db, "event").await
            ),
            before
        );
    }
);

store_test!(
    use_cases_refuse_the_anonymous_and_roles_without_the_permission,
    |db: Db| async move {
        let anon = Ctx::new(Actor::anonymous(), None);
        assert!(matches!(
            governance::list_users(&db, &anon, &Default::default()).await,
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            governance::list_users(&db, &as_role(Role::Manager), &Default::default()).await,
            Err(Error::Forbidden {
                permission: Permission::UsersManage
            })
        ));
        // Opening a warehouse is site setup: a warehouse agent moves stock
        // but can't create one (#19).
        for role in [Role::Finance, Role::Warehouse, Role::Support] {
            assert!(matches!(
                inventory::create_warehouse(
                    &db,
                    &as_role(role),
                    WarehouseInput {
                        code: "X1".into(),
                        name: "X".into()
                    },
                    None
                )
                .await,
                Err(Error::Forbidden {
                    permission: Permission::WarehousesManage
                })
            ));
        }
        assert!(
            governance::list_users(&db, &as_role(Role::Admin), &Default::default())
                .await
                .is_ok()
        );
        assert_eq!(count(&db, "warehouse").await, 0);
    }
);

store_test!(
    sign_in_issues_a_session_that_sign_out_ends,
    |db: Db| async move {
        let user = new_user(&db, "agent@example.com", "warehouse").await;
        let ctx = Ctx::new(Actor::anonymous(), Some("req-1".into()));
        let session = governance::sign_in(&db, &ctx, " Agent@Example.com ", PASSWORD, "10.0.0.1")
            .await
            .unwrap();
        assert_eq!(session.user.id, user.id);
        let now = ctx.now();
        let actor = governance::session_actor(&db, &session.secret, now)
            .await
            .unwrap()
            .expect("live session");
        assert_eq!(
            (actor.role, actor.id.as_deref()),
            (Some(Role::Warehouse), Some(user.id.as_str()))
        );
        // Only the hash of the secret is stored.
        let stored: String = sqlx::query_scalar("select session_id from user_session")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_ne!(stored, session.secret);
        let audit = governance::list_audit(
            &db,
            &admin(),
            &AuditFilter {
                actor: Some("agent@".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(audit.items[0].action, "user.sign_in");
        assert_eq!(audit.items[0].request_id.as_deref(), Some("req-1"));

        governance::sign_out(&db, &Ctx::new(actor, None), &session.secret)
            .await
            .unwrap();
        assert!(governance::session_actor(&db, &session.secret, now)
            .await
            .unwrap()
            .is_none());
        let types: Vec<String> = governance::events_after(&db, 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            types,
            vec!["user.created", "user.signed_in", "user.signed_out"]
        );
    }
);

store_test!(
    wrong_passwords_are_throttled_after_five_tries_per_window,
    |db: Db| async move {
        new_user(&db, "maya@example.com", "manager").await;
        let clock = backend::Clock::fixed(1_800_000_000_000_000);
        let ctx = Ctx::new(Actor::anonymous(), None).with_clock(clock.clone());
        for _ in 0..5 {
            match governance::sign_in(
                &db,
                &ctx,
                "maya@example.com",
                "wrong password!!",
                "10.0.0.2",
            )
            .await
            {
                Err(Error::Invalid(f)) => {
                    assert_eq!(f[0].message, "the email or password is wrong")
                }
                other => panic!("expected a wrong-password error, got {other:?}"),
            }
        }
        // Even the right password is refused while throttled.
        assert!(matches!(
            governance::sign_in(&db, &ctx, "maya@example.com", PASSWORD, "10.0.0.2").await,
            Err(Error::Throttled { .. })
        ));
        clock.advance_secs(15 * 60 + 1);
        assert!(
            governance::sign_in(&db, &ctx, "maya@example.com", PASSWORD, "10.0.0.2")
                .await
                .is_ok()
        );
        // Unknown accounts fail the same way, and are recorded too.
        assert!(matches!(
            governance::sign_in(&db, &ctx, "ghost@example.com", PASSWORD, "10.0.0.3").await,
            Err(Error::Invalid(_))
        ));
        // 5 failures, 1 success, 1 unknown account; the throttled try is refused before it is recorded.
        assert_eq!(count(&db, "sign_in_attempt").await, 7);
    }
);

store_test!(
    disabling_a_user_ends_their_sessions_and_stale_edits_conflict,
    |db: Db| async move {
        // The scope below names the seeded WEB channel.
        backend::seed::seed(&db, Some(PASSWORD), 1).await.unwrap();
        let user = new_user(&db, "lena@example.com", "support").await;
        let session = governance::sign_in(
            &db,
            &Ctx::new(Actor::anonymous(), None),
            "lena@example.com",
            PASSWORD,
            "10.0.0.4",
        )
        .await
        .unwrap();
        let update = |active, version| UserUpdate {
            role: "support".into(),
            active,
            scope: Scope {
                warehouses: vec![],
                channels: vec!["WEB".into()],
            },
            version,
        };
        // The role stays support: no second person is needed.
        let governance::Outcome::Applied(updated) =
            governance::update_user(&db, &admin(), &user.id, update(false, 1))
                .await
                .unwrap()
        else {
            panic!("an update without a role change was held")
        };
        assert_eq!(
            (
                updated.active,
                updated.version,
                updated.scope.channels.clone()
            ),
            (false, 2, vec!["WEB".to_string()])
        );
        assert!(
            governance::session_actor(&db, &session.secret, admin().now())
                .await
                .unwrap()
                .is_none()
        );
        assert!(governance::sign_in(
            &db,
            &Ctx::new(Actor::anonymous(), None),
            "lena@example.com",
            PASSWORD,
            "10.0.0.4"
        )
        .await
        .is_err());
        match governance::update_user(&db, &admin(), &user.id, update(true, 1)).await {
            Err(Error::Conflict { code, .. }) => assert_eq!(code, "version_conflict"),
            other => panic!("expected a version conflict, got {other:?}"),
        }
        let audit = governance::list_audit(
            &db,
            &admin(),
            &AuditFilter {
                entity_id: Some(user.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let update_row = audit
            .items
            .iter()
            .find(|a| a.action == "user.update")
            .unwrap();
        assert_eq!(update_row.before.as_ref().unwrap()["active"], true);
        assert_eq!(update_row.after.as_ref().unwrap()["active"], false);
    }
);

store_test!(
    api_tokens_resolve_until_revoked_and_are_stored_hashed,
    |db: Db| async move {
        let issued =
            governance::create_token(&db, &admin(), "storefront", "manager", Scope::default())
                .await
                .unwrap();
        assert!(issued.secret.starts_with("keel_") && issued.secret.len() == 69);
        let actor = governance::token_actor(&db, &issued.secret)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (actor.kind, actor.role),
            (ActorKind::Token, Some(Role::Manager))
        );
        assert!(governance::token_actor(&db, "keel_not-a-real-token")
            .await
            .unwrap()
            .is_none());
        let stored: String = sqlx::query_scalar("select token_hash from api_token")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(!stored.contains(&issued.secret[5..]));
        assert!(matches!(
            governance::create_token(&db, &admin(), "x", "emperor", Scope::default()).await,
            Err(Error::Invalid(_))
        ));
        governance::revoke_token(&db, &admin(), &issued.token.id)
            .await
            .unwrap();
        assert!(governance::token_actor(&db, &issued.secret)
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            governance::revoke_token(&db, &admin(), &issued.token.id).await,
            Err(Error::NotFound { .. })
        ));
    }
);

store_test!(
    audit_log_filters_by_entity_actor_and_time_and_pages_without_overlap,
    |db: Db| async move {
        let clock = backend::Clock::fixed(1_800_000_000_000_000);
        let ctx = admin().with_clock(clock.clone());
        for i in 0..7 {
            inventory::create_warehouse(
                &db,
                &ctx,
                WarehouseInput {
                    code: format!("WH{i}"),
                    name: format!("Warehouse {i}"),
                },
                None,
            )
            .await
            .unwrap();
            clock.advance_secs(3600);
        }
        let by_entity = governance::list_audit(
            &db,
            &ctx,
            &AuditFilter {
                entity: Some("warehouse".into()),
                limit: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(by_entity.items.len(), 3);
        let second = governance::list_audit(
            &db,
            &ctx,
            &AuditFilter {
                entity: Some("warehouse".into()),
                limit: Some(3),
                cursor: by_entity.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let third = governance::list_audit(
            &db,
            &ctx,
            &AuditFilter {
                entity: Some("warehouse".into()),
                limit: Some(3),
                cursor: second.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let codes: Vec<String> = [&by_entity, &second, &third]
            .iter()
            .flat_map(|p| {
                p.items.iter().map(|a| {
                    a.after.as_ref().unwrap()["code"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
            })
            .collect();
        assert_eq!(codes, vec!["WH6", "WH5", "WH4", "WH3", "WH2", "WH1", "WH0"]);
        assert!(third.next_cursor.is_none());
        let window = governance::list_audit(
            &db,
            &ctx,
            &AuditFilter {
                from: Some("2027-01-15T09:00:00Z".into()),
                to: Some("2027-01-15T11:00:00Z".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            window.items.len(),
            2,
            "1_800_000_000 s is 2027-01-15T08:00Z; hours 09 and 10 fall in the window"
        );
        let nobody = governance::list_audit(
            &db,
            &ctx,
            &AuditFilter {
                actor: Some("someone-else".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(nobody.items.is_empty());
        assert!(matches!(
            governance::list_audit(
                &db,
                &ctx,
                &AuditFilter {
                    from: Some("last tuesday".into()),
                    ..Default::default()
                }
            )
            .await,
            Err(Error::Invalid(_))
        ));
    }
);

store_test!(
    concurrent_writers_get_gapless_event_sequence_numbers,
    |db: Db| async move {
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    inventory::create_warehouse(
                        &db,
                        &admin(),
                        WarehouseInput {
                            code: format!("C{i:02}"),
                            name: format!("Concurrent {i}"),
                        },
                        None,
                    )
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let seqs: Vec<i64> = governance::events_after(&db, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, (1..=24).collect::<Vec<_>>());
        assert!(governance::check_event_sequence(&db)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(*db.subscribe_events().borrow(), 24);
    }
);

store_test!(
    an_idempotency_key_replays_the_first_result_even_when_raced,
    |db: Db| async move {
        let body = br#"{"code":"EAST","name":"East"}"#;
        let idem = Idempotency::new("key-1", "POST /api/v1/warehouses", body).unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (db, idem) = (db.clone(), idem.clone());
                tokio::spawn(async move {
                    inventory::create_warehouse(
                        &db,
                        &admin(),
                        WarehouseInput {
                            code: "EAST".into(),
                            name: "East".into(),
                        },
                        Some(&idem),
                    )
                    .await
                })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().unwrap().id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every replay returns the first warehouse");
        assert_eq!(count(&db, "warehouse").await, 1);
        assert_eq!(count(&db, "event").await, 1);
        let other = Idempotency::new(
            "key-1",
            "POST /api/v1/warehouses",
            br#"{"code":"WEST","name":"West"}"#,
        )
        .unwrap();
        match inventory::create_warehouse(
            &db,
            &admin(),
            WarehouseInput {
                code: "WEST".into(),
                name: "West".into(),
            },
            Some(&other),
        )
        .await
        {
            Err(Error::Invalid(f)) => assert_eq!(f[0].field, "Idempotency-Key"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(count(&db, "warehouse").await, 1);
    }
);

store_test!(
    seeding_twice_creates_the_demo_retailer_once,
    |db: Db| async move {
        let first = backend::seed::seed(&db, None, 1).await.unwrap();
        assert!(first.created);
        assert_eq!((first.warehouses, first.channels), (3, 4));
        let roles: std::collections::BTreeSet<String> =
            first.staff.iter().map(|(_, r, _)| r.clone()).collect();
        // #19: every account had the same printed password, so any agent
        // could sign in as the admin. Each has its own now.
        let secrets: std::collections::BTreeSet<&String> =
            first.staff.iter().map(|(_, _, p)| p).collect();
        assert_eq!(secrets.len(), first.staff.len());
        let (agent, _, agents_password) = first
            .staff
            .iter()
            .find(|(_, r, _)| r == "warehouse")
            .unwrap();
        let ctx = Ctx::system("test");
        governance::sign_in(&db, &ctx, agent, agents_password, "10.0.0.9")
            .await
            .unwrap();
        let as_admin = governance::sign_in(
            &db,
            &ctx,
            backend::seed::ADMIN_EMAIL,
            agents_password,
            "10.0.0.9",
        )
        .await;
        assert!(
            as_admin.is_err(),
            "an agent's password opens the admin account"
        );
        // A new password, set from the command line; the old one stops working.
        governance::reset_password(&db, &ctx, agent, "a brand new password 1".into())
            .await
            .unwrap();
        assert!(
            governance::sign_in(&db, &ctx, agent, agents_password, "10.0.0.9")
                .await
                .is_err()
        );
        governance::sign_in(&db, &ctx, agent, "a brand new password 1", "10.0.0.9")
            .await
            .unwrap();
        assert!(matches!(
            governance::reset_password(
                &db,
                &ctx,
                "nobody@northwind.example",
                "a brand new password 1".into()
            )
            .await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(
            roles.into_iter().collect::<Vec<_>>(),
            vec!["admin", "finance", "manager", "support", "warehouse"]
        );
        let events = count(&db, "event").await;
        let second = backend::seed::seed(&db, Some(PASSWORD), 1).await.unwrap();
        assert!(!second.created);
        assert_eq!(count(&db, "event").await, events);
        let channels = backend::orders::list_channels(&db, &admin()).await.unwrap();
        assert_eq!(
            channels.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
            vec!["AMAZON", "B2B", "WALMART", "WEB"]
        );
        // B2B has trade prices of its own for some products.
        let trade = backend::price_list::list(
            &db,
            &admin(),
            "B2B",
            &domain::views::PriceFilter {
                own: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(!trade.items.is_empty());
        assert!(trade
            .items
            .iter()
            .all(
                |p| p.channel_price.map(|m| m.minor()) < p.catalogue_price.map(|m| m.minor())
                    && p.price == p.channel_price
            ));
        // A year of history and today's open orders, a few held for each reason.
        assert!(first.history_orders > 5_000, "{}", first.history_orders);
        assert_eq!((first.open_orders, first.held_orders), (36, 6));
        let held = backend::orders::list_orders(
            &db,
            &admin(),
            &backend::orders::OrderFilter {
                hold: Some("any".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut reasons: Vec<String> = held.items.into_iter().flat_map(|o| o.holds).collect();
        reasons.sort();
        assert_eq!(
            reasons,
            vec![
                "fraud_review",
                "invalid_address",
                "payment_failed",
                "payment_pending",
                "payment_pending",
                "totals_mismatch"
            ]
        );
        let waiting = backend::orders::list_orders(
            &db,
            &admin(),
            &backend::orders::OrderFilter {
                backordered: Some("true".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(waiting.items.len(), 1);
    }
);

store_test!(
    expired_sessions_stop_resolving_and_are_removed_at_the_next_sign_in,
    |db: Db| async move {
        new_user(&db, "agent@example.com", "warehouse").await;
        let clock = backend::Clock::fixed(1_800_000_000_000_000);
        let ctx = Ctx::new(Actor::anonymous(), None).with_clock(clock.clone());
        let old = governance::sign_in(&db, &ctx, "agent@example.com", PASSWORD, "10.0.0.1")
            .await
            .unwrap();
        assert!(governance::session_actor(&db, &old.secret, clock.now())
            .await
            .unwrap()
            .is_some());
        clock.advance_secs(governance::SESSION_TTL_SECS);
        assert!(governance::session_actor(&db, &old.secret, clock.now())
            .await
            .unwrap()
            .is_none());
        let fresh = governance::sign_in(&db, &ctx, "agent@example.com", PASSWORD, "10.0.0.1")
            .await
            .unwrap();
        assert_eq!(
            count(&db, "user_session").await,
            1,
            "the expired session was removed"
        );
        assert!(governance::session_actor(&db, &fresh.secret, clock.now())
            .await
            .unwrap()
            .is_some());
    }
);

store_test!(
    scopes_must_name_existing_warehouses_and_channels,
    |db: Db| async move {
        backend::seed::seed(&db, Some(PASSWORD), 1).await.unwrap();
        let input = |warehouses: &[&str], channels: &[&str]| NewUser {
            email: "scoped@example.com".into(),
            name: "Scoped".into(),
            role: "warehouse".into(),
            password: PASSWORD.into(),
            scope: Scope {
                warehouses: warehouses.iter().map(|s| s.to_string()).collect(),
                channels: channels.iter().map(|s| s.to_string()).collect(),
            },
        };
        match governance::create_user(
            &db,
            &admin(),
            input(&["EAST", "NOWHERE"], &["web", "FAX"]),
            None,
        )
        .await
        {
            Err(Error::Invalid(f)) => assert_eq!(
                f.iter()
                    .map(|e| (e.field.as_str(), e.message.as_str()))
                    .collect::<Vec<_>>(),
                vec![
                    ("scope.warehouses", "there is no warehouse NOWHERE"),
                    ("scope.channels", "there is no channel FAX")
                ]
            ),
            other => panic!("expected scope errors, got {other:?}"),
        }
        let user = governance::create_user(&db, &admin(), input(&["west", "EAST"], &["web"]), None)
            .await
            .unwrap();
        assert_eq!(
            user.scope,
            Scope {
                warehouses: vec!["EAST".into(), "WEST".into()],
                channels: vec!["WEB".into()]
            }
        );
        let scoped = Ctx::new(
            Actor {
                kind: ActorKind::User,
                id: Some(user.id.clone()),
                name: user.email.clone(),
                role: Some(Role::Warehouse),
                scope: user.scope.clone(),
            },
            None,
        );
        let visible: Vec<String> = inventory::list_warehouses(&db, &scoped, None, None)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|w| w.code)
            .collect();
        assert_eq!(visible, vec!["EAST", "WEST"]);
    }
);
