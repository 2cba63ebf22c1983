//! Line numbers in an uploaded CSV file, as an editor shows them, for
//! the errors an import names.

/// The file's line number at a byte offset, counted forward from the last
/// one asked for. The csv reader's own count skips blank lines and drifts
/// on some line endings; this counts `\r\n`, `\n` and a lone `\r` as one
/// break each, as an editor shows the file.
pub(crate) struct Lines<'a> {
    text: &'a [u8],
    next: usize,
    line: i64,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            next: 0,
            line: 1,
        }
    }

    /// The line of the record the reader began at `byte`; offsets must come
    /// in increasing order. The reader begins a record before the blank
    /// lines it skips, so those are stepped over first.
    pub(crate) fn at(&mut self, byte: u64) -> i64 {
        let mut end = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while matches!(self.text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        while self.next < end {
            match self.text[self.next] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(self.next + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.next += 1;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn every_line_ending_counts_once_and_blank_lines_count() {
        let text = "a\r\nb\n\rc\r\n\r\nd";
        let mut lines = Lines::new(text);
        let at = |c: char| text.find(c).unwrap() as u64;
        assert_eq!(lines.at(0), 1);
        assert_eq!(lines.at(at('b')), 2);
        assert_eq!(lines.at(at('c')), 4);
        assert_eq!(lines.at(at('d')), 6);
        // The reader begins a record at the blank line it skips.
        let mut lines = Lines::new(text);
        assert_eq!(lines.at(at('c') + 3), 6);
    }
}
