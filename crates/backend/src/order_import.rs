//! Marketplace order reports (CSV): the column mapping saved per channel, a
//! preview before anything is written, and the import itself, which captures
//! every order through `capture` (so importing the same report again is a
//! replay that writes nothing) and reports its progress on the job row.
//!
//! Invariants:
//! - An order with any bad row is left out whole and reported by line.
//! - A staged import writes no order; starting it is claimed once.

use crate::error::Conflict;
use domain::{
    events::Event,
    governance::Permission,
    order_report::{self, Mapping, ReportOrder},
    orders::NewOrder,
    views::{ImportJob, RowError},
    FieldError,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    uow::{Change, Uow},
};

/// Reports bigger than this are split by the sender.
const MAX_ROWS: usize = 100_000;

/// What importing a report would do; nothing is written.
#[derive(Debug, Clone)]
pub struct ReportPreview {
    pub headers: Vec<String>,
    pub mapping: Mapping,
    /// The mapping came from the channel, not from the header names.
    pub mapping_saved: bool,
    /// Wrong or missing columns; the import can't start until there are none.
    pub mapping_errors: Vec<FieldError>,
    pub orders: Vec<ReportOrder>,
    /// The rows left out, by line, with the order each belongs to.
    pub problems: Vec<RowError>,
}

#[derive(Serialize, Deserialize)]
struct Options {
    channel: String,
    mapping: Mapping,
}

#[derive(Clone)]
struct ChannelFacts {
    id: String,
    currency: String,
    mapping: Option<Mapping>,
}

async fn channel(db: &Db, ctx: &Ctx, code: &str) -> Result<ChannelFacts> {
    let code = code.trim().to_uppercase();
    if !ctx.actor.scope.allows_channel(&code) {
        return Err(Error::OutOfScope {
            what: format!("channel {code}"),
        });
    }
    let row = sqlx::query(
        "select channel_id, currency, report_mapping_json from channel where code = $1 and active = 1",
    )
    .bind(&code)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| Error::invalid("channel", format!("there is no channel {code}")))?;
    Ok(ChannelFacts {
        id: row.try_get("channel_id")?,
        currency: row.try_get("currency")?,
        mapping: row
            .try_get::<Option<String>, _>("report_mapping_json")?
            .and_then(|m| serde_json::from_str(&m).ok()),
    })
}

/// The header line and the rows (with their line numbers) of a CSV report.
fn read(text: &str) -> Result<(Vec<String>, Vec<order_report::Row>)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid("file", format!("the header line can't be read: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(Error::invalid("file", "the file has no header line"));
    }
    let mut rows = Vec::new();
    let mut lines = crate::csv_lines::Lines::new(text);
    for record in reader.records() {
        if rows.len() >= MAX_ROWS {
            return Err(Error::invalid(
                "file",
                format!("a report may have at most {MAX_ROWS} rows; split it"),
            ));
        }
        let record = record.map_err(|e| {
            Error::invalid(
                "file",
                format!(
                    "line {} can't be read: {e}",
                    e.position().map_or(0, |p| lines.at(p.byte()))
                ),
            )
        })?;
        let line = record.position().map_or(0, |p| lines.at(p.byte()));
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok((headers, rows))
}

/// Previews `text` for `channel` under `mapping`, else the channel's saved
/// mapping, else one guessed from the header names.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn preview(
    db: &Db,
    ctx: &Ctx,
    channel_code: &str,
    text: &str,
    mapping: Option<Mapping>,
) -> Result<ReportPreview> {
    ctx.require(Permission::OrdersWrite)?;
    let ch = channel(db, ctx, channel_code).await?;
    preview_for(&ch, channel_code, text, mapping).await
}

/// The preview for a channel already read, worked out off the async
/// runtime (`heavy`): a report may have 100,000 rows.
async fn preview_for(
    ch: &ChannelFacts,
    channel_code: &str,
    text: &str,
    mapping: Option<Mapping>,
) -> Result<ReportPreview> {
    let (ch, code, text) = (ch.clone(), channel_code.to_string(), text.to_string());
    crate::heavy::run(crate::heavy::Pool::Files, move || {
        preview_now(&ch, &code, &text, mapping)
    })
    .await
}

fn preview_now(
    ch: &ChannelFacts,
    channel_code: &str,
    text: &str,
    mapping: Option<Mapping>,
) -> Result<ReportPreview> {
    let (headers, rows) = read(text)?;
    let mapping_saved = mapping.is_none() && ch.mapping.is_some();
    let mapping = mapping
        .or_else(|| ch.mapping.clone())
        .unwrap_or_else(|| order_report::guess(&headers));
    let mapping_errors = order_report::check(&mapping, &headers)
        .err()
        .unwrap_or_default();
    if !mapping_errors.is_empty() {
        return Ok(ReportPreview {
            headers,
            mapping,
            mapping_saved,
            mapping_errors,
            orders: Vec::new(),
            problems: Vec::new(),
        });
    }
    let code = channel_code.trim().to_uppercase();
    let (found, row_problems) =
        order_report::orders(&code, &ch.currency, &mapping, &headers, &rows);
    let mut problems: Vec<RowError> = row_problems
        .into_iter()
        .map(|p| RowError {
            line: p.line,
            sku: p.external_id,
            message: p.message,
        })
        .collect();
    let mut orders = Vec::new();
    // Orders the capture rules would refuse outright are reported now; those
    // it would hold (an unknown SKU, a bad address) are imported and held.
    for o in found {
        match NewOrder::parse(&o.order) {
            Ok(_) => orders.push(o),
            Err(fields) => problems.push(RowError {
                line: o.lines[0],
                sku: o.order.external_id.clone(),
                message: domain::FieldError::one_line(&fields),
            }),
        }
    }
    problems.sort_by_key(|p| p.line);
    Ok(ReportPreview {
        headers,
        mapping,
        mapping_saved,
        mapping_errors,
        orders,
        problems,
    })
}

/// Stages a report to import: the job holds the file and the mapping until it
/// starts; a complete mapping that differs from the channel's is saved as
/// the channel's. A mapping with errors is staged too, so the person can fix
/// it on the import's page; it can't start until it is right.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn stage(
    db: &Db,
    ctx: &Ctx,
    channel_code: &str,
    text: &str,
    mapping: Option<Mapping>,
) -> Result<(ImportJob, ReportPreview)> {
    ctx.require(Permission::OrdersWrite)?;
    let ch = channel(db, ctx, channel_code).await?;
    let p = preview_for(&ch, channel_code, text, mapping).await?;
    let id = create_job(db, ctx, &ch, channel_code, text, &p, "staged").await?;
    Ok((get_job(db, ctx, &id).await?, p))
}

/// Imports a report at once (the API): refused, with nothing written, while
/// its mapping has errors; otherwise claimed to run like a started import.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn import_now(
    db: &Db,
    ctx: &Ctx,
    channel_code: &str,
    text: &str,
) -> Result<PreparedReport> {
    ctx.require(Permission::OrdersWrite)?;
    let ch = channel(db, ctx, channel_code).await?;
    let p = preview_for(&ch, channel_code, text, None).await?;
    ready(&p)?;
    let id = create_job(db, ctx, &ch, channel_code, text, &p, "running").await?;
    Ok(PreparedReport {
        db: db.clone(),
        ctx: ctx.clone(),
        job: get_job(db, ctx, &id).await?,
        orders: p.orders,
    })
}

/// Refuses a preview whose mapping has errors, naming each field.
fn ready(p: &ReportPreview) -> Result<()> {
    if p.mapping_errors.is_empty() {
        return Ok(());
    }
    Err(Error::Invalid(
        p.mapping_errors
            .iter()
            .map(|e| FieldError::new(format!("mapping.{}", e.field), e.message.clone()))
            .collect(),
    ))
}

/// Writes the job (and the channel's mapping, when complete and new).
async fn create_job(
    db: &Db,
    ctx: &Ctx,
    ch: &ChannelFacts,
    channel_code: &str,
    text: &str,
    p: &ReportPreview,
    status: &str,
) -> Result<String> {
    let code = channel_code.trim().to_uppercase();
    let id = uuid::Uuid::now_v7().to_string();
    let mut uow = db.begin(ctx).await?;
    save_mapping(&mut uow, ch, &code, p).await?;
    sqlx::query(
        "insert into import_job (job_id, kind, status, source_text, total_rows, processed_rows, failed_rows, errors_json, created_by, created_at, options_json)
         values ($1, 'orders', $8, $2, $3, 0, 0, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(text)
    .bind(p.orders.len() as i64)
    .bind(serde_json::to_string(&p.problems.iter().take(500).collect::<Vec<_>>()).unwrap_or_default())
    .bind(&ctx.actor.name)
    .bind(ctx.now())
    .bind(
        serde_json::to_string(&Options {
            channel: code,
            mapping: p.mapping.clone(),
        })
        .unwrap_or_default(),
    )
    .bind(status)
    .execute(&mut *uow.tx)
    .await?;
    uow.commit().await?;
    Ok(id)
}

/// Saves a complete mapping as the channel's when it differs from the saved one.
async fn save_mapping(
    uow: &mut Uow,
    ch: &ChannelFacts,
    code: &str,
    p: &ReportPreview,
) -> Result<()> {
    if !p.mapping_errors.is_empty() || ch.mapping.as_ref() == Some(&p.mapping) {
        return Ok(());
    }
    sqlx::query("update channel set report_mapping_json = $2 where channel_id = $1")
        .bind(&ch.id)
        .bind(serde_json::to_string(&p.mapping).unwrap_or_default())
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "channel.set_report_mapping",
            entity: "channel",
            entity_id: &ch.id,
            before: ch.mapping.as_ref().map(|m| serde_json::json!(m)),
            after: Some(serde_json::json!(p.mapping)),
        },
        Event::ChannelReportMappingSet {
            channel_id: ch.id.clone(),
            code: code.to_string(),
            fields: p.mapping.len() as i64,
        },
    )
    .await
}

/// Changes a staged import's mapping (and the channel's, once it is complete).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn remap(db: &Db, ctx: &Ctx, id: &str, mapping: Mapping) -> Result<ReportPreview> {
    ctx.require(Permission::OrdersWrite)?;
    let (text, options) = staged(db, id).await?;
    let ch = channel(db, ctx, &options.channel).await?;
    let p = preview_for(&ch, &options.channel, &text, Some(mapping)).await?;
    let mut uow = db.begin(ctx).await?;
    save_mapping(&mut uow, &ch, &options.channel, &p).await?;
    let updated = sqlx::query("update import_job set total_rows = $2, errors_json = $3, options_json = $4 where job_id = $1 and status = 'staged'")
        .bind(id)
        .bind(p.orders.len() as i64)
        .bind(serde_json::to_string(&p.problems.iter().take(500).collect::<Vec<_>>()).unwrap_or_default())
        .bind(
            serde_json::to_string(&Options {
                channel: options.channel.clone(),
                mapping: p.mapping.clone(),
            })
            .unwrap_or_default(),
        )
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if updated != 1 {
        return Err(Error::Conflict {
            code: Conflict::ImportAlreadyStarted,
            message: "this import has already started".into(),
        });
    }
    uow.commit().await?;
    Ok(p)
}

/// A staged job's file and options.
async fn staged(db: &Db, id: &str) -> Result<(String, Options)> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "select source_text, options_json from import_job where job_id = $1 and kind = 'orders' and status = 'staged'",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some((Some(text), Some(options))) => Ok((
            text,
            serde_json::from_str(&options)
                .map_err(|e| Error::Internal(format!("import options are unreadable: {e}")))?,
        )),
        _ => Err(Error::Conflict {
            code: Conflict::ImportAlreadyStarted,
            message: "this import is no longer waiting to start".into(),
        }),
    }
}

/// The preview as the import's page shows it.
pub fn view(channel: &str, p: &ReportPreview) -> domain::views::ReportPreview {
    domain::views::ReportPreview {
        channel: channel.to_string(),
        headers: p.headers.clone(),
        fields: order_report::FIELDS
            .iter()
            .map(|f| domain::views::ReportField {
                key: f.key.to_string(),
                label: f.label.to_string(),
                required: f.required,
                column: p.mapping.get(f.key).cloned().unwrap_or_default(),
            })
            .collect(),
        mapping_saved: p.mapping_saved,
        mapping_errors: p.mapping_errors.clone(),
        orders: p.orders.len() as i64,
        sample: p
            .orders
            .iter()
            .take(10)
            .map(|o| domain::views::ReportOrderRow {
                external_id: o.order.external_id.clone(),
                file_lines: o
                    .lines
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                email: match &o.order.customer {
                    domain::orders::CustomerIn::Email(e) => e.clone(),
                    domain::orders::CustomerIn::Full { email, .. } => email.clone(),
                },
                lines: o.order.lines.len() as i64,
                units: o.order.lines.iter().map(|l| l.quantity).sum(),
            })
            .collect(),
        problems: p.problems.clone(),
    }
}

/// The preview of a staged import, from the file and mapping it holds.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn staged_preview(
    db: &Db,
    ctx: &Ctx,
    id: &str,
) -> Result<Option<domain::views::ReportPreview>> {
    ctx.require(Permission::OrdersWrite)?;
    match staged(db, id).await {
        Ok((text, options)) => {
            let p = preview(db, ctx, &options.channel, &text, Some(options.mapping)).await?;
            Ok(Some(view(&options.channel, &p)))
        }
        Err(Error::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A staged import claimed to run: its job and its orders.
pub struct PreparedReport {
    db: Db,
    ctx: Ctx,
    pub job: ImportJob,
    orders: Vec<ReportOrder>,
}

/// Claims a staged import to run (once: a second claim is a conflict).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn begin(db: &Db, ctx: &Ctx, id: &str) -> Result<PreparedReport> {
    ctx.require(Permission::OrdersWrite)?;
    let already = |status: String| Error::Conflict {
        code: Conflict::ImportAlreadyStarted,
        message: format!("this import is already {status}"),
    };
    let (text, options) = match staged(db, id).await {
        Ok(staged) => staged,
        Err(Error::Conflict { .. }) => return Err(already(get_job(db, ctx, id).await?.status)),
        Err(e) => return Err(e),
    };
    let ch = channel(db, ctx, &options.channel).await?;
    let p = preview_for(&ch, &options.channel, &text, Some(options.mapping)).await?;
    ready(&p)?;
    if !crate::catalog::import::claim_job(db, ctx, id, "orders", "").await? {
        return Err(already(get_job(db, ctx, id).await?.status));
    }
    Ok(PreparedReport {
        db: db.clone(),
        ctx: ctx.clone(),
        job: get_job(db, ctx, id).await?,
        orders: p.orders,
    })
}

impl PreparedReport {
    /// Runs the import to its end; the job row reports progress meanwhile.
    pub async fn run(self) -> Result<ImportJob> {
        let (db, ctx, id) = (self.db, self.ctx, self.job.id);
        if let Err(e) = run(&db, &ctx, &id, self.orders).await {
            tracing::error!(error = %e, job = %id, "order report import failed");
            crate::catalog::fail_job(&db, &id, ctx.now()).await?;
        }
        get_job(&db, &ctx, &id).await
    }

    /// Runs in the background.
    pub fn spawn(self) -> ImportJob {
        let job = self.job.clone();
        tokio::spawn(self.run());
        job
    }
}

/// Captures the orders one by one (each in its own transaction, as a
/// storefront would send them), counting created, already present and failed.
async fn run(db: &Db, ctx: &Ctx, id: &str, orders: Vec<ReportOrder>) -> Result<()> {
    let (mut created, mut replayed, mut failed) = (0i64, 0i64, 0i64);
    for report in orders {
        let external = report.order.external_id.clone();
        let line = report.lines[0];
        let outcome = crate::orders::capture::capture(db, ctx, report.order, None, None).await;
        let mut tx = db.write_tx().await?;
        match outcome {
            Ok(c) => {
                if c.created {
                    created += 1;
                } else {
                    replayed += 1;
                }
                sqlx::query("update import_job set processed_rows = processed_rows + 1, created_rows = $2, unchanged_rows = $3 where job_id = $1")
                    .bind(id)
                    .bind(created)
                    .bind(replayed)
                    .execute(&mut *tx)
                    .await?;
            }
            Err(e) => {
                failed += 1;
                let stored: String =
                    sqlx::query_scalar("select errors_json from import_job where job_id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                let mut errors: Vec<RowError> = serde_json::from_str(&stored).unwrap_or_default();
                if errors.len() < 500 {
                    errors.push(RowError {
                        line,
                        sku: external,
                        message: e.to_string(),
                    });
                }
                sqlx::query("update import_job set processed_rows = processed_rows + 1, failed_rows = $2, errors_json = $3 where job_id = $1")
                    .bind(id)
                    .bind(failed)
                    .bind(serde_json::to_string(&errors).unwrap_or_default())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
    }
    let mut uow = db.begin(ctx).await?;
    sqlx::query("update import_job set status = 'done', source_text = null, finished_at = $2 where job_id = $1")
        .bind(id)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "orders.import_report",
            entity: "import",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"created": created, "already_present": replayed, "failed": failed})),
        },
        Event::ImportFinished {
            job_id: id.to_string(),
            created,
            updated: 0,
            failed,
        },
    )
    .await?;
    uow.commit().await
}

/// An order report import, for its page and the API.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_job(db: &Db, ctx: &Ctx, id: &str) -> Result<ImportJob> {
    ctx.require(Permission::OrdersRead)?;
    let job = crate::catalog::import_job(db, id, "orders").await?;
    // A report's orders belong to its channel: outside the caller's
    // channels, the job reads as absent.
    let options: Option<String> =
        sqlx::query_scalar("select options_json from import_job where job_id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await?;
    let channel = options
        .and_then(|o| serde_json::from_str::<Options>(&o).ok())
        .map(|o| o.channel);
    match channel {
        Some(c) if ctx.actor.scope.allows_channel(&c) => Ok(job),
        _ if ctx.actor.scope.channels.is_empty() => Ok(job),
        _ => Err(Error::NotFound {
            entity: "import",
            key: id.to_string(),
        }),
    }
}

#[cfg(test)]
mod line_numbers {
    // A test fails by panicking: unwrapping is how it says what went wrong.
    #![allow(clippy::unwrap_used)]

    use super::read;

    fn lines(text: &str) -> Vec<i64> {
        read(text)
            .unwrap()
            .1
            .iter()
            .map(|(line, _)| *line)
            .collect()
    }

    #[test]
    fn rows_keep_the_file_s_line_numbers_whatever_the_line_ending() {
        for ending in ["\n", "\r\n", "\r"] {
            let text = ["sku,qty", "A,1", "B,2", "", "C,3"].join(ending) + ending;
            assert_eq!(lines(&text), [2, 3, 5], "{ending:?}");
        }
        // A quoted cell may hold a line break: the next row is one further on.
        let text = "sku,note\r\nA,\"two\r\nlines\"\r\nB,x\r\n";
        assert_eq!(lines(text), [2, 4]);
    }
}
