//! A port of the parts of Go's `text/tabwriter` that hubble's table output uses
//! (`NewWriter(w, minwidth 2, tabwidth 0, padding 3, ' ', 0)`), so columns line up exactly as
//! hubble's do: cells are tab-terminated, a column block is a run of lines sharing a cell in that
//! column, widths count runes, and a line without tabs (or a form feed) flushes what is buffered.

use std::io::{self, Write};

#[derive(Clone, Copy, Default)]
struct Cell {
    /// Bytes of text in `buf`.
    size: usize,
    /// Width in runes.
    width: usize,
    /// Terminated by a tab (not a vertical tab or line end).
    htab: bool,
}

pub struct TabWriter {
    minwidth: usize,
    padding: usize,
    buf: Vec<u8>,
    cell: Cell,
    lines: Vec<Vec<Cell>>,
    widths: Vec<usize>,
}

impl TabWriter {
    pub fn new(minwidth: usize, padding: usize) -> Self {
        TabWriter {
            minwidth,
            padding,
            buf: Vec::new(),
            cell: Cell::default(),
            lines: vec![Vec::new()],
            widths: Vec::new(),
        }
    }

    /// Buffers `text`, writing formatted output to `out` whenever the text allows a flush.
    pub fn write(&mut self, bytes: &[u8], out: &mut impl Write) -> io::Result<()> {
        let mut start = 0;
        for (i, &ch) in bytes.iter().enumerate() {
            if !matches!(ch, b'\t' | b'\x0b' | b'\n' | b'\x0c') {
                continue;
            }
            self.append(&bytes[start..i]);
            start = i + 1;
            let ncells = self.terminate_cell(ch == b'\t');
            if ch == b'\n' || ch == b'\x0c' {
                self.lines.push(Vec::new());
                if ch == b'\x0c' || ncells == 1 {
                    // A line with a single cell cannot change the columns after it.
                    self.flush(out)?;
                }
            }
        }
        self.append(&bytes[start..]);
        Ok(())
    }

    /// Formats and writes everything buffered (Go's `Flush`).
    pub fn flush(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.cell.size > 0 {
            self.terminate_cell(false);
        }
        let mut result = Ok(());
        self.format(out, &mut result, 0, 0, self.lines.len());
        self.buf.clear();
        self.cell = Cell::default();
        self.lines.clear();
        self.lines.push(Vec::new());
        self.widths.clear();
        result
    }

    fn append(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
        self.cell.size += s.len();
        // Runes: every byte but UTF-8 continuation bytes starts one.
        self.cell.width += s.iter().filter(|&&b| b & 0xc0 != 0x80).count();
    }

    fn terminate_cell(&mut self, htab: bool) -> usize {
        self.cell.htab = htab;
        let line = self.lines.last_mut().expect("always one line");
        line.push(self.cell);
        self.cell = Cell::default();
        line.len()
    }

    /// Go's `format`: find the column blocks left to right, recursing for the columns after.
    fn format(
        &mut self,
        out: &mut impl Write,
        result: &mut io::Result<()>,
        pos0: usize,
        line0: usize,
        line1: usize,
    ) -> usize {
        let mut pos = pos0;
        let mut line0 = line0;
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            pos = self.write_lines(out, result, pos, line0, this);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].width + self.padding);
                this += 1;
            }
            self.widths.push(width);
            pos = self.format(out, result, pos, line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(out, result, pos, line0, line1)
    }

    fn write_lines(
        &self,
        out: &mut impl Write,
        result: &mut io::Result<()>,
        pos0: usize,
        line0: usize,
        line1: usize,
    ) -> usize {
        let mut pos = pos0;
        let mut put = |bytes: &[u8]| {
            if result.is_ok() {
                *result = out.write_all(bytes);
            }
        };
        const SPACES: [u8; 64] = [b' '; 64];
        let pad = |put: &mut dyn FnMut(&[u8]), n: usize| {
            let mut n = n;
            while n > 0 {
                let k = n.min(SPACES.len());
                put(&SPACES[..k]);
                n -= k;
            }
        };
        for i in line0..line1 {
            let line = &self.lines[i];
            for (j, c) in line.iter().enumerate() {
                if c.size > 0 {
                    put(&self.buf[pos..pos + c.size]);
                    pos += c.size;
                }
                if let Some(&w) = self.widths.get(j) {
                    pad(&mut put, w.saturating_sub(c.width));
                }
            }
            if i + 1 == self.lines.len() {
                // The last buffered line has no newline yet: write the incomplete cell.
                put(&self.buf[pos..pos + self.cell.size]);
                pos += self.cell.size;
            } else {
                put(b"\n");
            }
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&str]) -> String {
        let mut tw = TabWriter::new(2, 3);
        let mut out = Vec::new();
        for c in chunks {
            tw.write(c.as_bytes(), &mut out).unwrap();
        }
        tw.flush(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn columns_take_the_widest_cell_plus_padding_and_the_last_cell_is_free() {
        let got = run(&["A\tBB\tlast\n", "CCCC\tD\tx\n"]);
        assert_eq!(got, "A      BB   last\nCCCC   D    x\n");
    }

    #[test]
    fn widths_count_runes_not_bytes() {
        let got = run(&["é\tx\n", "ab\ty\n"]);
        assert_eq!(got, "é    x\nab   y\n");
    }

    #[test]
    fn a_line_without_tabs_flushes_and_starts_new_columns() {
        let got = run(&["a\tb\n", "plain\n", "long-cell\tc\n"]);
        assert_eq!(got, "a   b\nplain\nlong-cell   c\n");
    }

    #[test]
    fn column_blocks_end_where_a_line_has_fewer_cells() {
        let got = run(&["a\tb\tc\n", "aaaa\tb\n", "x\tyyyyyy\tz\n"]);
        assert_eq!(got, "a      b   c\naaaa   b\nx      yyyyyy   z\n");
    }
}
