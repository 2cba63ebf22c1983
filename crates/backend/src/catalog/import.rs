//! The catalogue's CSV import: parsed and previewed, staged as a job, then
//! run in batches, each product saved like an edit.

use std::collections::HashMap;

use domain::{
    catalog::{self, NewProduct, ProductInput},
    events::Event,
    governance::Permission,
    views::{ImportJob, ImportPreview, ProductRow, RowError},
    FieldError,
};
use sqlx::Row;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Conflict, Error, Result},
    rfc3339,
    uow::Change,
};

use super::products::{save, Outcome};
/// One parsed CSV row: its line number, and the product or why it is bad.
struct ParsedRow {
    line: i64,
    sku: String,
    product: std::result::Result<NewProduct, String>,
}

/// The most rows one import takes; larger files should be split.
pub const IMPORT_MAX_ROWS: usize = 100_000;

/// `parse_csv` off the async runtime (`heavy`): a file may have 100,000 rows.
async fn parse_csv_off(text: &str) -> Result<Vec<ParsedRow>> {
    let text = text.to_string();
    crate::heavy::run(crate::heavy::Pool::Files, move || parse_csv(&text)).await
}

fn parse_csv(text: &str) -> Result<Vec<ParsedRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid("file", format!("the header line can't be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    for required in ["sku", "name"] {
        if !headers.iter().any(|h| h == required) {
            return Err(Error::invalid(
                "file",
                format!("the header line has no `{required}` column"),
            ));
        }
    }
    if let Some(unknown) = headers
        .iter()
        .find(|h| !catalog::CSV_COLUMNS.contains(&h.as_str()))
    {
        return Err(Error::invalid(
            "file",
            format!(
                "unknown column `{unknown}`; the columns are {}",
                catalog::CSV_COLUMNS.join(", ")
            ),
        ));
    }
    let index: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut lines = crate::csv_lines::Lines::new(text);
    for record in reader.records() {
        if rows.len() >= IMPORT_MAX_ROWS {
            return Err(Error::invalid(
                "file",
                format!("a file may have at most {IMPORT_MAX_ROWS} rows; split it"),
            ));
        }
        let (line, record) = match record {
            Ok(r) => (r.position().map_or(0, |p| lines.at(p.byte())), r),
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.at(p.byte()));
                rows.push(ParsedRow {
                    line,
                    sku: String::new(),
                    product: Err(format!("the row can't be read: {e}")),
                });
                continue;
            }
        };
        let cell = |c: &str| {
            let raw = index.get(c).and_then(|&i| record.get(i)).unwrap_or("");
            domain::text::from_spreadsheet(raw).to_string()
        };
        let sku = cell("sku");
        let fields = |errs: Vec<FieldError>| FieldError::one_line(&errs);
        let mut product = catalog::product_from_csv(cell)
            .map_err(fields)
            .and_then(|input: ProductInput| NewProduct::parse(&input).map_err(fields));
        if product.is_ok() {
            if let Some(first) = seen.insert(sku.clone(), line) {
                product = Err(format!("SKU {sku} already appeared on line {first}"));
            }
        }
        rows.push(ParsedRow { line, sku, product });
    }
    Ok(rows)
}

fn row_errors(rows: &[ParsedRow]) -> Vec<RowError> {
    rows.iter()
        .filter_map(|r| {
            r.product.as_ref().err().map(|m| RowError {
                line: r.line,
                sku: r.sku.clone(),
                message: m.clone(),
            })
        })
        .collect()
}

/// What an import of `text` would do; nothing is written.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn preview_import(_db: &Db, ctx: &Ctx, text: &str) -> Result<ImportPreview> {
    ctx.require(Permission::CatalogWrite)?;
    let rows = parse_csv_off(text).await?;
    let errors = row_errors(&rows);
    let sample = rows
        .iter()
        .filter_map(|r| r.product.as_ref().ok())
        .take(10)
        .map(|p| ProductRow {
            sku: p.sku.to_string(),
            name: p.name.clone(),
            kind: p.kind().into(),
            group: p.group.clone(),
            gtin: p.gtin.as_ref().map(|g| g.to_string()),
            active: p.active,
            on_hand: 0,
            available: 0,
        })
        .collect();
    Ok(ImportPreview {
        total_rows: rows.len() as i64,
        valid_rows: rows.len() as i64 - errors.len() as i64,
        errors: errors.into_iter().take(500).collect(),
        sample,
    })
}

const IMPORT_BATCH: usize = 200;

/// An import that has been claimed to run: its job and its parsed rows.
pub struct PreparedImport {
    db: Db,
    ctx: Ctx,
    pub job: ImportJob,
    rows: Vec<(i64, NewProduct)>,
}

/// Stores an uploaded file as a staged import job: its rows are counted and
/// the unreadable ones reported, but no product is written until it starts.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn stage_import(db: &Db, ctx: &Ctx, text: &str) -> Result<ImportJob> {
    ctx.require(Permission::CatalogWrite)?;
    let rows = parse_csv_off(text).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let errors = row_errors(&rows);
    let mut tx = db.write_tx().await?;
    sqlx::query(
        "insert into import_job (job_id, kind, status, source_text, total_rows, processed_rows, failed_rows, errors_json, created_by, created_at)
         values ($1, 'catalog', 'staged', $2, $3, 0, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(text)
    .bind(rows.len() as i64)
    .bind(errors.len() as i64)
    .bind(serde_json::to_string(&errors.iter().take(500).collect::<Vec<_>>()).unwrap_or_default())
    .bind(&ctx.actor.name)
    .bind(ctx.now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get_import(db, ctx, &id).await
}

/// The preview of a staged import, from the file it holds.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn staged_preview(db: &Db, ctx: &Ctx, id: &str) -> Result<Option<ImportPreview>> {
    ctx.require(Permission::CatalogWrite)?;
    let text: Option<Option<String>> = sqlx::query_scalar(
        "select source_text from import_job where job_id = $1 and status = 'staged'",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    match text.flatten() {
        Some(text) => Ok(Some(preview_import(db, ctx, &text).await?)),
        None => Ok(None),
    }
}

/// Claims a staged import to run (once: a second claim is a conflict).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn begin_import(db: &Db, ctx: &Ctx, id: &str) -> Result<PreparedImport> {
    ctx.require(Permission::CatalogWrite)?;
    if !claim_job(db, ctx, id, "catalog", ", processed_rows = failed_rows").await? {
        let job = get_import(db, ctx, id).await?;
        return Err(Error::Conflict {
            code: Conflict::ImportAlreadyStarted,
            message: format!("this import is already {}", job.status),
        });
    }
    let text: Option<String> =
        sqlx::query_scalar("select source_text from import_job where job_id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await?;
    let rows = parse_csv_off(text.as_deref().unwrap_or_default()).await?;
    // Items first, so bundles later in the file find their components.
    let mut good: Vec<(i64, NewProduct)> = rows
        .into_iter()
        .filter_map(|r| r.product.ok().map(|p| (r.line, p)))
        .collect();
    good.sort_by_key(|(line, p)| (p.is_bundle(), *line));
    Ok(PreparedImport {
        job: get_import(db, ctx, id).await?,
        db: db.clone(),
        ctx: ctx.clone(),
        rows: good,
    })
}

/// Stages and claims in one step, for the API and the CLI.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn prepare_import(db: &Db, ctx: &Ctx, text: &str) -> Result<PreparedImport> {
    let job = stage_import(db, ctx, text).await?;
    begin_import(db, ctx, &job.id).await
}

impl PreparedImport {
    /// Upserts the rows by SKU in batches, updating the job's progress as each
    /// batch commits. Importing the same file again changes nothing.
    pub async fn run(self) -> Result<ImportJob> {
        let (db, ctx, id) = (self.db, self.ctx, self.job.id);
        if let Err(e) = run_import(&db, &ctx, &id, self.rows).await {
            tracing::error!(error = %e, job = %id, "catalogue import failed");
            fail_job(&db, &id, ctx.now()).await?;
        }
        get_import(&db, &ctx, &id).await
    }

    /// Runs in the background; the job row reports progress.
    pub fn spawn(self) -> ImportJob {
        let job = self.job.clone();
        tokio::spawn(self.run());
        job
    }
}

#[derive(Default)]
struct Tally {
    created: i64,
    updated: i64,
    unchanged: i64,
    failed: Vec<RowError>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

async fn run_import(db: &Db, ctx: &Ctx, job_id: &str, rows: Vec<(i64, NewProduct)>) -> Result<()> {
    let mut totals = Tally::default();
    for batch in rows.chunks(IMPORT_BATCH) {
        // The whole batch in one transaction; if any row fails there, the batch
        // is rolled back and redone row by row so one bad row costs only itself.
        let tally = match import_batch(db, ctx, job_id, batch).await {
            Ok(t) => t,
            Err(_) => {
                let mut t = Tally::default();
                for row in batch {
                    match import_batch(db, ctx, job_id, std::slice::from_ref(row)).await {
                        Ok(one) => {
                            t.created += one.created;
                            t.updated += one.updated;
                            t.unchanged += one.unchanged;
                        }
                        Err(e) => {
                            let message = match &e {
                                Error::Invalid(f) => FieldError::one_line(f),
                                Error::Database(_) | Error::Internal(_) => {
                                    tracing::error!(error = %e, line = row.0, "import row failed");
                                    "this row could not be saved; it has been logged".into()
                                }
                                other => other.to_string(),
                            };
                            record_row_failure(db, job_id, row, &message).await?;
                            t.failed.push(RowError {
                                line: row.0,
                                sku: row.1.sku.to_string(),
                                message,
                            });
                        }
                    }
                }
                t
            }
        };
        totals.created += tally.created;
        totals.updated += tally.updated;
        totals.unchanged += tally.unchanged;
        totals.failed.extend(tally.failed);
    }
    let mut uow = db.begin(ctx).await?;
    sqlx::query("update import_job set status = 'done', source_text = null, finished_at = $2 where job_id = $1")
        .bind(job_id)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    let failed: i64 = sqlx::query_scalar("select failed_rows from import_job where job_id = $1")
        .bind(job_id)
        .fetch_one(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "catalog.import",
            entity: "import",
            entity_id: job_id,
            before: None,
            after: Some(
                serde_json::json!({"created": totals.created, "updated": totals.updated,
                "unchanged": totals.unchanged, "failed": failed}),
            ),
        },
        Event::ImportFinished {
            job_id: job_id.to_string(),
            created: totals.created,
            updated: totals.updated,
            failed,
        },
    )
    .await?;
    uow.commit().await
}

async fn import_batch(
    db: &Db,
    ctx: &Ctx,
    job_id: &str,
    batch: &[(i64, NewProduct)],
) -> Result<Tally> {
    let mut uow = db.begin(ctx).await?;
    let mut tally = Tally::default();
    for (_, product) in batch {
        let action = "product.import";
        tally.add(save(&mut uow, product, None, action).await?);
    }
    sqlx::query(
        "update import_job set processed_rows = processed_rows + $2, created_rows = created_rows + $3,
         updated_rows = updated_rows + $4, unchanged_rows = unchanged_rows + $5 where job_id = $1",
    )
    .bind(job_id)
    .bind(batch.len() as i64)
    .bind(tally.created)
    .bind(tally.updated)
    .bind(tally.unchanged)
    .execute(&mut *uow.tx)
    .await?;
    uow.commit().await?;
    Ok(tally)
}

async fn record_row_failure(
    db: &Db,
    job_id: &str,
    row: &(i64, NewProduct),
    message: &str,
) -> Result<()> {
    let mut tx = db.write_tx().await?;
    let stored: String = sqlx::query_scalar("select errors_json from import_job where job_id = $1")
        .bind(job_id)
        .fetch_one(&mut *tx)
        .await?;
    let mut errors: Vec<RowError> = serde_json::from_str(&stored).unwrap_or_default();
    if errors.len() < 500 {
        errors.push(RowError {
            line: row.0,
            sku: row.1.sku.to_string(),
            message: message.to_string(),
        });
        errors.sort_by_key(|e| e.line);
    }
    sqlx::query(
        "update import_job set processed_rows = processed_rows + 1, failed_rows = failed_rows + 1, errors_json = $2 where job_id = $1",
    )
    .bind(job_id)
    .bind(serde_json::to_string(&errors).unwrap_or_default())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_import(db: &Db, ctx: &Ctx, id: &str) -> Result<ImportJob> {
    ctx.require(Permission::CatalogWrite)?;
    import_job(db, id, "catalog").await
}

/// Marks a job that stopped on an error as failed, and drops its file.
/// Imports one person may run at once; the next waits until one ends, so
/// nobody can fill the machine with imports.
pub const RUNNING_IMPORTS_PER_PERSON: i64 = 2;

/// Moves a staged job of `kind` to running, unless the caller already runs
/// [`RUNNING_IMPORTS_PER_PERSON`] (429, try again later), in one conditional
/// update. `false` when the job isn't staged (someone started it, or it is
/// done).
pub(crate) async fn claim_job(db: &Db, ctx: &Ctx, id: &str, kind: &str, set: &str) -> Result<bool> {
    let mut tx = db.write_tx().await?;
    let claimed = sqlx::query(&format!(
        "update import_job set status = 'running'{set} where job_id = $1 and kind = $2 and status = 'staged'
         and (select count(*) from import_job r where r.status = 'running' and r.created_by = $3) < $4"
    ))
    .bind(id)
    .bind(kind)
    .bind(&ctx.actor.name)
    .bind(RUNNING_IMPORTS_PER_PERSON)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if claimed == 1 {
        return Ok(true);
    }
    let staged: Option<String> =
        sqlx::query_scalar("select status from import_job where job_id = $1 and kind = $2")
            .bind(id)
            .bind(kind)
            .fetch_optional(&db.pool)
            .await?;
    match staged.as_deref() {
        Some("staged") => Err(Error::Throttled {
            reason: format!(
                "you already have {RUNNING_IMPORTS_PER_PERSON} imports running; start this one when one ends"
            ),
            retry_after_secs: 30,
        }),
        _ => Ok(false),
    }
}

pub(crate) async fn fail_job(db: &Db, id: &str, now: i64) -> Result<()> {
    let mut tx = db.write_tx().await?;
    sqlx::query("update import_job set status = 'failed', source_text = null, finished_at = $2 where job_id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// An import job of `kind` (`catalog`, `orders`) as its page shows it.
pub(crate) async fn import_job(db: &Db, id: &str, kind: &str) -> Result<ImportJob> {
    let row = sqlx::query("select job_id, status, total_rows, processed_rows, created_rows, updated_rows, unchanged_rows, failed_rows, errors_json, created_at, finished_at from import_job where job_id = $1 and kind = $2")
        .bind(id)
        .bind(kind)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "import",
            key: id.to_string(),
        })?;
    let errors: String = row.try_get("errors_json")?;
    Ok(ImportJob {
        id: row.try_get("job_id")?,
        status: row.try_get("status")?,
        total_rows: row.try_get("total_rows")?,
        processed_rows: row.try_get("processed_rows")?,
        created_rows: row.try_get("created_rows")?,
        updated_rows: row.try_get("updated_rows")?,
        unchanged_rows: row.try_get("unchanged_rows")?,
        failed_rows: row.try_get("failed_rows")?,
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        created_at: rfc3339(row.try_get("created_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(rfc3339),
    })
}

#[cfg(test)]
mod line_numbers {
    // A test fails by panicking: unwrapping is how it says what went wrong.
    #![allow(clippy::unwrap_used)]

    use super::parse_csv;

    #[test]
    fn rows_keep_the_file_s_line_numbers_with_crlf_and_blank_lines() {
        let text = "sku,name\r\nA,Alpha\r\n\r\nB,Beta\r\n";
        let rows = parse_csv(text).unwrap();
        let lines: Vec<(i64, &str)> = rows.iter().map(|r| (r.line, r.sku.as_str())).collect();
        assert_eq!(lines, [(2, "A"), (4, "B")]);
    }
}
