//! Small helpers for statements whose shape depends on the data.

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

/// `$from, $from+1, …` for `n` parameters: the inside of an `in (…)` list.
pub(crate) fn params(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
