//! Four eyes on both databases: a change over the policy is held, not
//! applied; the person who asked can't approve it; another person's approval
//! applies it once, in one transaction, audited; a rejection applies nothing;
//! two approvals at once apply it once; Keel's own actors act at once.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    approvals::decide,
    governance::{self, approvals, Outcome, UserUpdate},
    inventory::{self, AdjustmentInput},
    store_test,
    testing::fixtures::{assert_no_drift, item, person, receive, sys, warehouse},
    Conflict, Ctx, Db, Error,
};
use domain::governance::{approvals::ApprovalKind, Role, Scope};

fn found(units: i64) -> AdjustmentInput {
    AdjustmentInput {
        warehouse: "EAST".into(),
        sku: "TENT".into(),
        quantity: units,
        reason: "found".into(),
        location: Some("A-01-01".into()),
        lot: None,
        expires_on: None,
        kind: None,
        note: None,
    }
}

async fn on_hand(db: &Db) -> i64 {
    inventory::stock(db, &sys(), "TENT").await.unwrap().on_hand
}

async fn audit_actions(db: &Db, entity_id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select action from audit_log where entity_id = $1 order by occurred_at, audit_id",
    )
    .bind(entity_id)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

fn conflict(r: backend::Result<impl std::fmt::Debug>) -> Conflict {
    match r {
        Err(Error::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

store_test!(
    an_adjustment_over_the_threshold_waits_for_someone_else_and_applies_once,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        // $96 at cost: three units are $288, over the default $250.
        item(&db, "TENT", "96.00").await;
        receive(&db, "EAST", "TENT", 10).await;
        let (maya, sam, avery) = (
            person("maya@example.com", Role::Manager),
            person("sam@example.com", Role::Manager),
            person("avery@example.com", Role::Admin),
        );

        // Under the threshold: applied at once.
        let small = inventory::adjust(&db, &maya, found(2), None).await.unwrap();
        assert!(matches!(small, Outcome::Applied(_)), "{small:?}");
        assert_eq!(on_hand(&db).await, 12);

        let Outcome::Held(held) = inventory::adjust(&db, &maya, found(3), None).await.unwrap()
        else {
            panic!("a $288 adjustment went through without a second person")
        };
        assert_eq!(held.status, "pending");
        assert_eq!(
            held.summary,
            "TENT in EAST: +3 units (found), 288.00 USD at cost"
        );
        assert_eq!(on_hand(&db).await, 12, "nothing moves before approval");

        // The one who asked can't approve; finance, without inventory.approve,
        // doesn't even see it.
        assert_eq!(
            conflict(decide(&db, &maya, &held.id, true, "").await),
            Conflict::SelfApproval
        );
        let finance = person("fin@example.com", Role::Finance);
        assert!(matches!(
            decide(&db, &finance, &held.id, true, "").await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(on_hand(&db).await, 12);

        // Both the requester and an approver list it; finance doesn't.
        let pending = domain::views::PendingFilter {
            status: Some("pending".into()),
            ..Default::default()
        };
        for (who, n) in [(&maya, 1), (&sam, 1), (&finance, 0)] {
            let page = approvals::list(&db, who, &pending).await.unwrap();
            assert_eq!(page.items.len(), n, "{}", who.actor.name);
        }

        // Two approvals at once: one applies, the other is told it's decided.
        let (a, b) = tokio::join!(
            decide(&db, &sam, &held.id, true, "checked the shelf"),
            decide(&db, &avery, &held.id, true, "")
        );
        let applied = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(applied, 1, "{a:?} / {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert_eq!(conflict(loser), Conflict::ChangeNotPending);
        assert_eq!(on_hand(&db).await, 15, "applied exactly once");
        let decided = approvals::get(&db, &maya, &held.id).await.unwrap();
        assert_eq!(decided.status, "applied");
        assert_eq!(
            audit_actions(&db, &held.id).await,
            vec!["approval.request", "approval.approve"]
        );
        let adjusted_by: Vec<String> = sqlx::query_scalar(
            "select actor_name from audit_log where action = 'stock.adjust' order by occurred_at, audit_id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(adjusted_by.len(), 2);
        assert_ne!(
            adjusted_by[1], "maya@example.com",
            "the approver applies it"
        );

        // A rejection applies nothing, and a decided change stays decided.
        let Outcome::Held(second) = inventory::adjust(&db, &maya, found(-4), None)
            .await
            .unwrap()
        else {
            panic!("a write-off over the threshold went through")
        };
        let rejected = decide(&db, &sam, &second.id, false, "count it first")
            .await
            .unwrap();
        assert_eq!(
            (rejected.status.as_str(), rejected.decision_note.as_deref()),
            ("rejected", Some("count it first"))
        );
        assert_eq!(on_hand(&db).await, 15);
        assert_eq!(
            conflict(decide(&db, &avery, &second.id, true, "").await),
            Conflict::ChangeNotPending
        );

        // Keel's own actors (CLI, seeder) act at once.
        let by_cli = inventory::adjust(&db, &sys(), found(5), None)
            .await
            .unwrap();
        assert!(matches!(by_cli, Outcome::Applied(_)));
        assert_eq!(on_hand(&db).await, 20);
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_role_change_waits_for_another_administrator_unless_the_policy_is_off,
    |db: Db| async move {
        let user = governance::create_user(
            &db,
            &sys(),
            governance::NewUser {
                email: "jo@example.com".into(),
                name: "Jo".into(),
                role: "warehouse".into(),
                password: "a long enough password".into(),
                scope: Scope::default(),
            },
            None,
        )
        .await
        .unwrap();
        let avery_user = governance::create_user(
            &db,
            &sys(),
            governance::NewUser {
                email: "avery@example.com".into(),
                name: "Avery".into(),
                role: "admin".into(),
                password: "a long enough password".into(),
                scope: Scope::default(),
            },
            None,
        )
        .await
        .unwrap();
        let mut avery = person("avery@example.com", Role::Admin);
        avery.actor.id = Some(avery_user.id.clone());
        let sofia = person("sofia@example.com", Role::Admin);
        let to = |role: &str, version| UserUpdate {
            role: role.into(),
            active: true,
            scope: Scope::default(),
            version,
        };
        let Outcome::Held(held) = governance::update_user(&db, &avery, &user.id, to("admin", 1))
            .await
            .unwrap()
        else {
            panic!("a new administrator needed no second person")
        };
        assert_eq!(
            held.summary,
            "jo@example.com: Warehouse agent to Administrator"
        );
        assert_eq!(
            governance::get_user(&db, &sys(), &user.id)
                .await
                .unwrap()
                .role,
            Role::Warehouse
        );
        assert_eq!(
            conflict(decide(&db, &avery, &held.id, true, "").await),
            Conflict::SelfApproval
        );
        // Nor with a token she issued: it is her.
        let issued = governance::create_token(&db, &avery, "script", "admin", Scope::default())
            .await
            .unwrap();
        let her_token = governance::token_actor(&db, &issued.secret)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            conflict(decide(&db, &Ctx::new(her_token.clone(), None), &held.id, true, "").await),
            Conflict::SelfApproval
        );
        // Nor on a count she scanned with that token: whoever counted a bin
        // doesn't approve its variance, under any name.
        warehouse(&db, "EAST").await;
        item(&db, "TENT", "96.00").await;
        let script = Ctx::new(her_token, None);
        let count = inventory::open_count(
            &db,
            &script,
            inventory::CountInput {
                warehouse: "EAST".into(),
                location: "A-01-01".into(),
            },
        )
        .await
        .unwrap();
        let scan = inventory::CountScan {
            code: "TENT".into(),
            quantity: Some(3),
            set: true,
        };
        inventory::count_scan(&db, &script, &count.id, scan)
            .await
            .unwrap();
        let waiting = inventory::submit_count(&db, &script, &count.id)
            .await
            .unwrap();
        assert_eq!(waiting.status, "pending_approval");
        assert_eq!(
            conflict(inventory::decide_count(&db, &avery, &count.id, true).await),
            Conflict::SelfApproval
        );
        let posted = inventory::decide_count(&db, &sofia, &count.id, true)
            .await
            .unwrap();
        assert_eq!(posted.status, "posted");
        // A manager can't decide on role changes.
        let maya = person("maya@example.com", Role::Manager);
        assert!(decide(&db, &maya, &held.id, true, "").await.is_err());
        decide(&db, &sofia, &held.id, true, "").await.unwrap();
        let now = governance::get_user(&db, &sys(), &user.id).await.unwrap();
        assert_eq!((now.role, now.version), (Role::Admin, 2));

        // With the policy off (an administrator's audited decision), a role
        // change applies at once.
        approvals::set_policy(&db, &avery, ApprovalKind::RoleChange, false, None, None)
            .await
            .unwrap();
        let policies = approvals::policies(&db, &avery).await.unwrap();
        assert!(policies
            .iter()
            .any(|p| p.kind == ApprovalKind::RoleChange && !p.active));
        let back = governance::update_user(&db, &avery, &user.id, to("warehouse", 2))
            .await
            .unwrap();
        assert!(
            matches!(back, Outcome::Applied(ref u) if u.role == Role::Warehouse),
            "{back:?}"
        );
        assert_eq!(
            audit_actions(&db, "role_change").await,
            vec!["approval.policy"]
        );
        // A threshold out of range is refused and changes nothing.
        assert!(matches!(
            approvals::set_policy(
                &db,
                &avery,
                ApprovalKind::StockAdjustment,
                true,
                Some(-1),
                None
            )
            .await,
            Err(Error::Invalid(_))
        ));
    }
);
