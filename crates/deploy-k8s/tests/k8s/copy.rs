//! `PgCopyJob` for real: the fake kubelet runs the Job's `pg_dump | pg_restore`
//! against the PostgreSQL peer.

use deploy_k8s::{Error, PgCopyJob};

use crate::fake_api::{Behavior, FakeApi};
use crate::lifecycle::assert_cleaned_up;
use crate::support::{endpoint_of, pg, settings, unique};

/// A checksum of a database's tables: for every table and view of schema
/// `public`, its definition (columns, constraints, indexes) and an md5 of
/// its rows in order.
async fn checksum(db: &tokio_postgres::Client) -> Vec<String> {
    let mut sums = Vec::new();
    let tables = db
        .query(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    for t in tables {
        let (name, kind): (String, String) = (t.get(0), t.get(1));
        let columns: String = db
            .query_one(
                "SELECT coalesce(string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position), '') \
                 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        let constraints: String = db
            .query_one(
                "SELECT coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname), '') \
                 FROM pg_constraint WHERE conrelid = ('public.' || quote_ident($1))::regclass",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        let indexes: String = db
            .query_one(
                "SELECT coalesce(string_agg(indexdef, ', ' ORDER BY indexdef), '') FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        let rows: String = db
            .query_one(&format!("SELECT coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), 'empty') FROM public.\"{name}\" r"), &[])
            .await
            .unwrap()
            .get(0);
        sums.push(format!("{kind} {name} ({columns}) [{constraints}] [{indexes}] rows {rows}"));
    }
    sums
}

struct Databases {
    admin: tokio_postgres::Client,
    source: String,
    target: String,
}

impl Databases {
    async fn create(pg: &crate::support::PgPeer, tag: &str, source_sql: &str, target_sql: &str) -> (Databases, tokio_postgres::Client) {
        let u = unique();
        let (source, target) = (format!("{tag}_src_{u}"), format!("{tag}_dst_{u}"));
        let admin = pg.admin().connect().await.unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {source}")).await.unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {target}")).await.unwrap();
        pg.admin().connect_to(&source).await.unwrap().batch_execute(source_sql).await.unwrap();
        let dst = pg.admin().connect_to(&target).await.unwrap();
        dst.batch_execute(target_sql).await.unwrap();
        (Databases { admin, source, target }, dst)
    }

    async fn drop_all(self) {
        for db in [&self.source, &self.target] {
            self.admin.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)")).await.unwrap();
        }
    }
}

/// SIMPHERA's restore step for real: pg_dump | pg_restore --clean --if-exists, twice.
#[tokio::test]
async fn the_copy_job_copies_a_real_database_twice() {
    let Some(pg) = pg() else { return };
    let (dbs, dst) = Databases::create(
        &pg,
        "copy",
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (9, 'stale')",
    )
    .await;
    let copy =
        PgCopyJob::new("copy", endpoint_of(&pg, &dbs.source, &pg.ca_file), endpoint_of(&pg, &dbs.target, &pg.ca_file), settings()).unwrap();
    let fake = FakeApi::new(Behavior::Exec);
    for _ in 0..2 {
        let outcome = copy.run(fake.client()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.changes.len(), 1, "{outcome:?}");
        let rows = dst.query("SELECT id, v FROM t ORDER BY id", &[]).await.unwrap();
        let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(rows, [(1, "a".to_owned()), (2, "b".to_owned())]);
    }
    assert_cleaned_up(&fake);
    drop(dst);
    dbs.drop_all().await;
}

/// A copy that fails half-way changes nothing: production holds a view the
/// restored instance lacks (`report` on `a_accounts`), so `pg_restore --clean`
/// drops `z_orders` and the constraints, then cannot drop `a_accounts`.
/// In one transaction, everything is rolled back: the target's checksum is
/// the same before and after. (Without `--single-transaction` the target
/// loses `z_orders` and both primary keys.)
#[tokio::test]
async fn a_copy_that_fails_half_way_leaves_the_target_exactly_as_it_was() {
    let Some(pg) = pg() else { return };
    let tables =
        "CREATE TABLE a_accounts (id int PRIMARY KEY, name text); CREATE TABLE z_orders (id int PRIMARY KEY, account int, total numeric);";
    let (dbs, dst) = Databases::create(
        &pg,
        "half",
        &format!("{tables} INSERT INTO a_accounts VALUES (1, 'restored'); INSERT INTO z_orders VALUES (1, 1, 10)"),
        &format!(
            "{tables} INSERT INTO a_accounts SELECT g, 'production ' || g FROM generate_series(1, 50) g; \
             INSERT INTO z_orders SELECT g, g % 50 + 1, g * 1.5 FROM generate_series(1, 500) g; \
             CREATE VIEW report AS SELECT name, count(*) FROM a_accounts GROUP BY name"
        ),
    )
    .await;
    let before = checksum(&dst).await;
    assert!(before.iter().any(|t| t.starts_with("r z_orders")) && before.iter().any(|t| t.contains("PRIMARY KEY")), "{before:#?}");

    let copy =
        PgCopyJob::new("copy", endpoint_of(&pg, &dbs.source, &pg.ca_file), endpoint_of(&pg, &dbs.target, &pg.ca_file), settings()).unwrap();
    let fake = FakeApi::new(Behavior::Exec);
    let err = copy.run(fake.client()).await.unwrap_err();
    assert!(
        matches!(&err, Error::JobFailed { errors, .. } if errors.iter().any(|e| e.contains("cannot drop table public.a_accounts because other objects depend on it"))),
        "{err:?}"
    );
    assert_eq!(checksum(&dst).await, before, "the target changed");
    assert_cleaned_up(&fake);
    drop(dst);
    dbs.drop_all().await;
}
