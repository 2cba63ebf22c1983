//! Small helpers for statements whose shape depends on the data.

use sqlx::AnyConnection;

use crate::error::{Error, Result};

/// Binds each value to a query (`Query` or `QueryAs`), in order.
macro_rules! bind_vals {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for v in $args {
            q = match v {
                Val::I16(v) => q.bind(v),
                Val::I32(v) => q.bind(v),
                Val::I64(v) => q.bind(v),
                Val::OptI64(v) => q.bind(v),
                Val::OptI16(v) => q.bind(v),
                Val::Text(v) => q.bind(v),
                Val::OptText(v) => q.bind(v),
            };
        }
        q
    }};
}

/// `prefix` followed by `rows` parenthesised groups of `cols` numbered
/// parameters: `($1,$2),($3,$4)`. The text depends only on the counts, so
/// sqlx's per-connection statement cache reuses the prepared statement.
pub(crate) fn values_rows(prefix: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * cols * 5);
    sql.push_str(prefix);
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(r * cols + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// A search box's text as a case-insensitive `like` pattern for "contains"
/// (compare with `lower(column)`); `None` when the box is blank.
pub(crate) fn contains(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.to_lowercase()))
}

/// `$from, $from+1, …` for `n` parameters: the inside of an `in (…)` list.
pub(crate) fn params(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value bound to a batched statement. Nulls are typed: PostgreSQL checks
/// a parameter's type against its column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    I16(i16),
    I32(i32),
    I64(i64),
    OptI64(Option<i64>),
    OptI16(Option<i16>),
    Text(String),
    OptText(Option<String>),
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::OptText(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Val {
        Val::OptText(v.map(str::to_string))
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::OptI64(v)
    }
}
impl From<Option<i16>> for Val {
    fn from(v: Option<i16>) -> Val {
        Val::OptI16(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i16> for Val {
    fn from(v: i16) -> Val {
        Val::I16(v)
    }
}

/// Writes that nothing in the unit of work reads before they run, gathered
/// to run together. On SQLite they go to the connection as one multi-statement
/// query, one round trip to its worker thread instead of one per statement
/// (the wait for that thread, not SQLite, was most of the SQLite writer's
/// turn). PostgreSQL takes one statement per query, so there they run one by
/// one. Statements are written with `$N` parameters, as everywhere else.
#[derive(Default)]
pub(crate) struct Batch {
    statements: Vec<(String, Vec<Val>)>,
}

impl Batch {
    pub(crate) fn push(&mut self, sql: impl Into<String>, args: Vec<Val>) {
        self.statements.push((sql.into(), args));
    }

    /// Statements gathered so far.
    pub(crate) fn len(&self) -> usize {
        self.statements.len()
    }

    /// Runs the statements in order and returns the rows they return. The
    /// first failure stops the rest; the caller's transaction (or savepoint)
    /// undoes what ran before it.
    pub(crate) async fn run(
        self,
        conn: &mut sqlx::AnyConnection,
        backend: crate::db::Backend,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        if self.statements.is_empty() {
            return Ok(Vec::new());
        }
        if backend == crate::db::Backend::Sqlite {
            let (sql, args) = self.positional();
            return bind_vals!(sqlx::query(&sql), args).fetch_all(conn).await;
        }
        let mut rows = Vec::new();
        for (sql, args) in self.statements {
            rows.extend(
                bind_vals!(sqlx::query(&sql), args)
                    .fetch_all(&mut *conn)
                    .await?,
            );
        }
        Ok(rows)
    }

    /// One text of `?` parameters with the values in the order they appear.
    /// sqlx numbers the anonymous parameters of a multi-statement query on
    /// from statement to statement; numbered ones are looked up per statement
    /// and would leave the later statements' parameters unbound.
    fn positional(self) -> (String, Vec<Val>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        for (text, args) in self.statements {
            if !sql.is_empty() {
                sql.push_str(";\n");
            }
            let mut chars = text.char_indices().peekable();
            while let Some((_, c)) = chars.next() {
                if c != '$' {
                    sql.push(c);
                    continue;
                }
                let mut n = 0usize;
                let mut digits = 0;
                while let Some((_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                    n = n * 10 + d.to_digit(10).unwrap_or(0) as usize;
                    digits += 1;
                    chars.next();
                }
                if digits == 0 {
                    sql.push('$');
                    continue;
                }
                let value = n
                    .checked_sub(1)
                    .and_then(|i| args.get(i))
                    .unwrap_or_else(|| panic!("`{text}` uses ${n}, which has no value"));
                sql.push('?');
                values.push(value.clone());
            }
        }
        (sql, values)
    }
}

/// A where clause of the filters a request has, each parameter numbered as
/// it is added. Optional filters written as `($n is null or …)` cost an
/// index: PostgreSQL's generic plan for such a statement can't assume the
/// filter is absent, and walks or sorts every row instead.
#[derive(Default, Clone)]
pub(crate) struct Filters {
    conditions: Vec<String>,
    args: Vec<Val>,
}

impl Filters {
    /// Adds a parameter and returns its placeholder.
    pub(crate) fn arg(&mut self, v: impl Into<Val>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    pub(crate) fn and(&mut self, condition: impl Into<String>) {
        self.conditions.push(condition.into());
    }

    /// The conditions joined with `and` (`1 = 1` when there are none).
    pub(crate) fn clause(&self) -> String {
        if self.conditions.is_empty() {
            "1 = 1".into()
        } else {
            self.conditions.join(" and ")
        }
    }

    /// `column = value`, when a value is given.
    pub(crate) fn eq(&mut self, column: &str, value: Option<impl Into<Val>>) {
        if let Some(v) = value {
            let p = self.arg(v);
            self.and(format!("{column} = {p}"));
        }
    }

    /// Any of `columns` matches `pattern` (`like`, so the caller lowers the
    /// columns and wraps the words in `%`), when a pattern is given.
    pub(crate) fn like_any(&mut self, columns: &[&str], pattern: Option<String>) {
        if let Some(pattern) = pattern {
            let p = self.arg(pattern);
            let any: Vec<String> = columns.iter().map(|c| format!("{c} like {p}")).collect();
            self.and(format!("({})", any.join(" or ")));
        }
    }

    /// The rows past a keyset cursor: `(key, id)` after `cursor` in the
    /// direction `cmp` gives (`<` for a newest-first list, `>` for oldest).
    pub(crate) fn past(&mut self, key: &str, id: &str, cmp: &str, cursor: Option<(i64, String)>) {
        if let Some((at, after)) = cursor {
            let (k, i) = (self.arg(at), self.arg(after));
            self.and(format!(
                "({key} {cmp} {k} or ({key} = {k} and {id} {cmp} {i}))"
            ));
        }
    }

    /// The viewer's scope (`ctx.actor.scope.warehouses` or `.channels`): a
    /// row passes when any of `columns` (codes) is one of `codes`. Nothing is
    /// added for an unscoped viewer (an empty list: all of them). `or_null`
    /// lets rows that belong to none pass too.
    pub(crate) fn scope(&mut self, codes: &[String], columns: &[&str], or_null: bool) {
        if let Some(c) = self.scope_condition(codes, columns, or_null) {
            self.and(c);
        }
    }

    /// The scope condition of `scope`, for a caller that places it itself
    /// (inside a subquery); its parameters are numbered with the rest.
    pub(crate) fn scope_condition(
        &mut self,
        codes: &[String],
        columns: &[&str],
        or_null: bool,
    ) -> Option<String> {
        if codes.is_empty() {
            return None;
        }
        let list: Vec<String> = codes.iter().map(|w| self.arg(w.as_str())).collect();
        let list = list.join(", ");
        let mut any: Vec<String> = columns.iter().map(|c| format!("{c} in ({list})")).collect();
        if or_null {
            any.extend(columns.iter().map(|c| format!("{c} is null")));
        }
        Some(format!("({})", any.join(" or ")))
    }

    /// `sql` (which holds `clause()` and any placeholders from `arg`) with
    /// every parameter bound.
    pub(crate) fn query(
        self,
        sql: &str,
    ) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        bind_vals!(sqlx::query(sql), self.args)
    }

    /// As `query`, for rows read into a tuple.
    pub(crate) fn query_as<T>(
        self,
        sql: &str,
    ) -> sqlx::query::QueryAs<'_, sqlx::Any, T, sqlx::any::AnyArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        bind_vals!(sqlx::query_as(sql), self.args)
    }
}

/// Ids per `in (…)` list. sqlx's SQLite driver binds `$N` by name, which is
/// quadratic in a statement's parameters, so statements stay near a
/// thousand parameters.
pub(crate) const CHUNK: usize = 1000;

/// Rows per multi-row statement of `cols` columns, by the same measure.
pub(crate) fn rows_per(cols: usize) -> usize {
    (CHUNK / cols).max(1)
}

/// Runs `sql` once per chunk of `ids`, with `{ids}` in it replaced by the
/// chunk's parameter list, and gathers the rows; counts the statements.
pub(crate) async fn in_chunks<T>(
    conn: &mut AnyConnection,
    sql: &str,
    ids: &[impl AsRef<str>],
    statements: &mut i64,
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let text = sql.replace("{ids}", &params(1, chunk.len()));
        let mut q = sqlx::query_as::<_, T>(&text);
        for id in chunk {
            q = q.bind(id.as_ref().to_string());
        }
        *statements += 1;
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The inside of a `values` list: `($1,$2),($3,$4)` for `n` rows.
pub(crate) fn values_list(cols: usize, n: usize) -> String {
    values_rows("", cols, n)
}

/// A JSON column Keel wrote itself, read back. One that no longer parses is
/// an error naming the record, never a default: a default would show an
/// order with no address or a reservation with no lines as if it were true.
pub(crate) fn stored_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json)
        .map_err(|e| Error::Internal(format!("the stored {what} is not readable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_number_their_parameters_and_leave_out_what_was_not_asked() {
        let mut f = Filters::default();
        f.eq("a.status", None::<String>);
        f.eq("a.status", Some("open"));
        f.like_any(&["lower(a.sku)", "lower(a.name)"], Some("%tee%".into()));
        f.scope(&[], &["w.code"], false);
        f.scope(
            &["EAST".into(), "WEST".into()],
            &["f.code", "d.code"],
            false,
        );
        f.scope(&["WEB".into()], &["x.channel_code"], true);
        f.past("a.at", "a.id", "<", Some((7, "k".into())));
        f.past("a.at", "a.id", "<", None);
        let n = f.arg(26i64);
        assert_eq!(
            f.clause(),
            "a.status = $1 and (lower(a.sku) like $2 or lower(a.name) like $2) \
             and (f.code in ($3, $4) or d.code in ($3, $4)) \
             and (x.channel_code in ($5) or x.channel_code is null) \
             and (a.at < $6 or (a.at = $6 and a.id < $7))"
        );
        assert_eq!(n, "$8");
        assert_eq!(f.args.len(), 8);
        assert_eq!(Filters::default().clause(), "1 = 1");
    }

    #[test]
    fn a_batch_becomes_positional_parameters_in_order_of_appearance() {
        let mut b = Batch::default();
        b.push(
            "insert into t values ($2, $1, $2)",
            vec![1i64.into(), "x".into()],
        );
        b.push("update u set a = $1", vec![Val::OptText(None)]);
        let (sql, values) = b.positional();
        assert_eq!(sql, "insert into t values (?, ?, ?);\nupdate u set a = ?");
        assert_eq!(
            values,
            vec!["x".into(), Val::I64(1), "x".into(), Val::OptText(None)]
        );
    }

    #[test]
    fn rows_are_numbered_across_groups() {
        assert_eq!(
            values_rows("insert into t values ", 2, 2),
            "insert into t values ($1,$2),($3,$4)"
        );
        assert_eq!(values_rows("v ", 3, 1), "v ($1,$2,$3)");
        assert_eq!(params(3, 3), "$3, $4, $5");
    }
}
