//! Contract templates: a small, safe Markdown subset with `{{variables}}`, parsed and rendered to HTML.
//!
//! The subset is line based: `#` headings (rendered from `<h2>` down, the page's `<h1>` being the
//! contract title), paragraphs, flat `-`/`*`/`1.` lists, pipe tables, and `**bold**`, `*italic*`,
//! `_italic_` inline. There are no links, images or raw HTML: every character of the template and
//! of every variable value is HTML-escaped, and values are inserted after Markdown has been read,
//! so a customer's name can never add markup to a contract. The output is deterministic because
//! its SHA-256 pins the exact document a signature applies to.

use std::fmt;

use sha2::{Digest, Sha256};

/// The largest template body we accept, in bytes.
const MAX_BODY_BYTES: usize = 100_000;

/// The most distinct variables one template may use.
const MAX_VARIABLES: usize = 200;

/// The most signatories a contract can name (`signatory.1` … `signatory.20`).
const MAX_SIGNATORIES: u32 = 20;

/// The longest key of a `custom.KEY` variable.
const MAX_CUSTOM_KEY: usize = 64;

/// How much of an unknown name an error message repeats; the rest is cut so a runaway `{{` does
/// not turn the message into a page.
const MAX_NAME_IN_MESSAGE: usize = 64;

/// The variables with a fixed name; `signatory.N.*` and `custom.KEY` are checked by shape.
const FIXED_VARIABLES: &[&str] = &[
    "customer.name",
    "customer.email",
    "customer.org_name",
    "customer.address",
    "company.name",
    "company.legal_name",
    "contract.title",
    "contract.start_date",
    "contract.expiration_date",
    "contract.term",
];

/// Why a template or its values were refused. Display gives a one-sentence message a merchant can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// Malformed template: e.g. `{{` without `}}`, an empty `{{ }}`, body too long. `line` is 1-based.
    Syntax { line: usize, message: String },
    /// A variable name Kasse does not know (e.g. `{{customer.shoe_size}}`).
    Unknown { name: String },
    /// A known variable with no value for this contract (e.g. `{{custom.region}}` not given, `{{signatory.3.name}}` with two signatories).
    Missing { name: String },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Syntax { line, message } => write!(f, "Line {line} of the template: {message}."),
            TemplateError::Unknown { name } => write!(
                f,
                "{{{{{}}}}} is not a variable Kasse knows; check its spelling, or use a custom.KEY variable for \
                 a value you give per contract.",
                shortened(name)
            ),
            TemplateError::Missing { name } => {
                write!(f, "The template uses {{{{{name}}}}}, but this contract has no value for it; fill it in first.")
            }
        }
    }
}

impl std::error::Error for TemplateError {}

/// At most [`MAX_NAME_IN_MESSAGE`] characters of `name`, with an ellipsis if cut.
fn shortened(name: &str) -> String {
    match name.char_indices().nth(MAX_NAME_IN_MESSAGE) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_owned(),
    }
}

fn syntax(line: usize, message: &str) -> TemplateError {
    TemplateError::Syntax { line, message: message.to_owned() }
}

/// Whether `name` is a variable Kasse can fill.
pub fn is_known(name: &str) -> bool {
    if FIXED_VARIABLES.contains(&name) {
        return true;
    }
    if let Some(key) = name.strip_prefix("custom.") {
        return (1..=MAX_CUSTOM_KEY).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    }
    if let Some(rest) = name.strip_prefix("signatory.") {
        let Some((number, field)) = rest.split_once('.') else {
            return false;
        };
        return is_signatory_number(number) && matches!(field, "name" | "email" | "title");
    }
    false
}

/// `1` … `20` with no leading zero, so each signatory has exactly one spelling.
fn is_signatory_number(number: &str) -> bool {
    !number.is_empty()
        && number.len() <= 2
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit())
        && number.parse::<u32>().is_ok_and(|n| (1..=MAX_SIGNATORIES).contains(&n))
}

/// Parse `body`: the distinct variable names it uses, in order of first use. Refuses syntax errors and unknown names.
pub fn variables(body: &str) -> Result<Vec<String>, TemplateError> {
    Ok(parse(body)?.names)
}

/// Render `body` to HTML, filling each variable from `value(name)`; `None` → `TemplateError::Missing`.
/// Every piece of text, and every variable value, is HTML-escaped; values are never read as Markdown.
pub fn render(body: &str, value: &dyn Fn(&str) -> Option<String>) -> Result<String, TemplateError> {
    let parsed = parse(body)?;
    // Ask for each value once, in order of first use, so the first missing variable is the one
    // reported and the output cannot change between two uses of the same name.
    let values = parsed
        .names
        .iter()
        .map(|name| value(name).map(|v| escape_value(&v)).ok_or_else(|| TemplateError::Missing { name: name.clone() }))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = String::with_capacity(body.len() + body.len() / 4);
    for (k, block) in parsed.blocks.iter().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        render_block(block, &values, &mut out);
    }
    Ok(out)
}

/// The SHA-256 (lowercase hex) of `text`, used to pin the frozen document a signature applies to.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// An emphasis delimiter as written. `__` is read as bold like `**`, as Markdown writers expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delim {
    Star,
    DoubleStar,
    Underscore,
    DoubleUnderscore,
}

impl Delim {
    fn index(self) -> usize {
        self as usize
    }

    /// What an unmatched delimiter shows as.
    fn literal(self) -> &'static str {
        match self {
            Delim::Star => "*",
            Delim::DoubleStar => "**",
            Delim::Underscore => "_",
            Delim::DoubleUnderscore => "__",
        }
    }

    fn tags(self) -> (&'static str, &'static str) {
        match self {
            Delim::Star | Delim::Underscore => ("<em>", "</em>"),
            Delim::DoubleStar | Delim::DoubleUnderscore => ("<strong>", "</strong>"),
        }
    }

    /// `_` does not emphasise inside a word, so `snake_case_name` stays as written.
    fn is_underscore(self) -> bool {
        matches!(self, Delim::Underscore | Delim::DoubleUnderscore)
    }
}

/// One piece of inline text after lexing. Escaped characters are plain `Char`s, so they can
/// never act as a delimiter or a cell border.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inline {
    Char(char),
    /// Index into [`Parsed::names`].
    Var(usize),
    Delim(Delim),
    /// An unescaped `|`: a cell border in a table row, a plain `|` anywhere else.
    Pipe,
}

impl Inline {
    fn is_space(self) -> bool {
        matches!(self, Inline::Char(c) if c.is_whitespace())
    }

    /// Part of a word, for the intraword `_` rule; a variable stands in for a word.
    fn is_wordlike(self) -> bool {
        match self {
            Inline::Char(c) => c.is_alphanumeric(),
            Inline::Var(_) => true,
            Inline::Delim(_) | Inline::Pipe => false,
        }
    }
}

type Cell = Vec<Inline>;

enum Block {
    /// Level 2 to 4.
    Heading(u8, Vec<Inline>),
    Paragraph(Vec<Inline>),
    /// `start` is `None` for a bulleted list, the first item's number for a numbered one.
    List {
        start: Option<u64>,
        items: Vec<Vec<Inline>>,
    },
    Table {
        head: Vec<Cell>,
        rows: Vec<Vec<Cell>>,
    },
}

struct Parsed {
    blocks: Vec<Block>,
    /// Distinct variable names in order of first use.
    names: Vec<String>,
}

/// Lines of `body` (any `\r\n` handled by `lines`), split into blocks with their inline pieces.
fn parse(body: &str) -> Result<Parsed, TemplateError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(syntax(1, &format!("the template is longer than {MAX_BODY_BYTES} bytes; shorten it")));
    }
    // Leading and trailing whitespace never matters in this subset (there are no indented code
    // blocks or hard line breaks), so trim once here.
    let lines: Vec<&str> = body.lines().map(str::trim).collect();
    let mut names = Vec::new();
    let mut blocks = Vec::new();
    // A paragraph or list still taking lines.
    let mut open: Option<Block> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let number = i + 1;
        if line.is_empty() {
            blocks.extend(open.take());
            i += 1;
            continue;
        }
        if let Some((level, text)) = heading(line) {
            blocks.extend(open.take());
            blocks.push(Block::Heading(level, lex(text, number, &mut names)?));
            i += 1;
            continue;
        }
        if line.starts_with('|') {
            let end = (i..lines.len()).find(|&j| !lines[j].starts_with('|')).unwrap_or(lines.len());
            if end - i >= 2 && is_separator(lines[i + 1]) {
                let head = cells(lex(line, number, &mut names)?);
                // A header without cells (a lone `|`) cannot name any columns, and holds no
                // variables, so falling back to a paragraph below loses nothing.
                if !head.is_empty() {
                    let mut rows = Vec::with_capacity(end - i - 2);
                    for (j, row_line) in lines.iter().enumerate().take(end).skip(i + 2) {
                        let mut row = cells(lex(row_line, j + 1, &mut names)?);
                        row.resize_with(head.len(), Vec::new);
                        rows.push(row);
                    }
                    blocks.extend(open.take());
                    blocks.push(Block::Table { head, rows });
                    i = end;
                    continue;
                }
            }
            // No separator row: these lines are ordinary paragraph text.
            for (j, text) in lines.iter().enumerate().take(end).skip(i) {
                add_paragraph_line(&mut open, &mut blocks, lex(text, j + 1, &mut names)?);
            }
            i = end;
            continue;
        }
        if let Some((start, text)) = list_item(line) {
            let item = lex(text, number, &mut names)?;
            match &mut open {
                Some(Block::List { start: open_start, items }) if open_start.is_some() == start.is_some() => {
                    items.push(item)
                }
                _ => {
                    blocks.extend(open.take());
                    open = Some(Block::List { start, items: vec![item] });
                }
            }
            i += 1;
            continue;
        }
        add_paragraph_line(&mut open, &mut blocks, lex(line, number, &mut names)?);
        i += 1;
    }
    blocks.extend(open);
    Ok(Parsed { blocks, names })
}

/// Continue the open paragraph with `text` (joined by one space), or start one, ending any list.
fn add_paragraph_line(open: &mut Option<Block>, blocks: &mut Vec<Block>, text: Vec<Inline>) {
    if let Some(Block::Paragraph(inlines)) = open {
        inlines.push(Inline::Char(' '));
        inlines.extend(text);
        return;
    }
    blocks.extend(open.take());
    *open = Some(Block::Paragraph(text));
}

/// `# text` → (2, "text"); `##` → 3; `###` and deeper → 4. The `#`s must be followed by a space,
/// so `#hashtag` stays a paragraph.
fn heading(line: &str) -> Option<(u8, &str)> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if hashes == 0 {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let level = match hashes {
        1 => 2,
        2 => 3,
        _ => 4,
    };
    Some((level, rest.trim()))
}

/// `- text` / `* text` → (None, "text"); `12. text` → (Some(12), "text"). `line` is trimmed, so
/// the text is never empty.
fn list_item(line: &str) -> Option<(Option<u64>, &str)> {
    if let Some(text) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some((None, text.trim_start()));
    }
    if let Some(text) = line.strip_prefix("-\t").or_else(|| line.strip_prefix("*\t")) {
        return Some((None, text.trim_start()));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    // Nine digits keep the number far inside u64 (CommonMark has the same limit).
    if digits == 0 || digits > 9 {
        return None;
    }
    let text = line[digits..].strip_prefix(". ").or_else(|| line[digits..].strip_prefix(".\t"))?;
    let number = line[..digits].parse().ok()?;
    Some((Some(number), text.trim_start()))
}

/// A table's second row: `|---|:---:|`, every cell dashes with optional alignment colons.
fn is_separator(line: &str) -> bool {
    let Some(inner) = line.strip_prefix('|') else {
        return false;
    };
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    !inner.is_empty()
        && inner.split('|').all(|cell| {
            let cell = cell.trim();
            let dashes = cell.strip_prefix(':').unwrap_or(cell);
            let dashes = dashes.strip_suffix(':').unwrap_or(dashes);
            !dashes.is_empty() && dashes.bytes().all(|b| b == b'-')
        })
}

/// The trimmed cells of a lexed table row (`| a | b |` or `| a | b`).
fn cells(row: Vec<Inline>) -> Vec<Cell> {
    let ends_with_pipe = row.last() == Some(&Inline::Pipe);
    let mut cells: Vec<Cell> = row.split(|inline| *inline == Inline::Pipe).map(trim).collect();
    // The row starts with `|`, so the first piece is always the empty text before it; a closing
    // `|` likewise leaves an empty piece after it.
    if ends_with_pipe {
        cells.pop();
    }
    if !cells.is_empty() {
        cells.remove(0);
    }
    cells
}

fn trim(cell: &[Inline]) -> Cell {
    let start = cell.iter().position(|i| !i.is_space()).unwrap_or(cell.len());
    let end = cell.iter().rposition(|i| !i.is_space()).map_or(start, |p| p + 1);
    cell[start..end].to_vec()
}

/// Lex one line of inline text: escapes, `{{variables}}` (checked and numbered here, so every
/// error carries its line), emphasis delimiters and pipes.
fn lex(text: &str, line: usize, names: &mut Vec<String>) -> Result<Vec<Inline>, TemplateError> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let mut taken = c.len_utf8();
        let inline = match c {
            // A backslash escapes any ASCII punctuation, as in Markdown (`\*`, `\_`, `\|`, `\{`,
            // `\#`, `\\` …); before anything else it is just a backslash (`C:\Users`).
            '\\' => match rest[1..].chars().next() {
                Some(next) if next.is_ascii_punctuation() => {
                    taken += next.len_utf8();
                    Inline::Char(next)
                }
                _ => Inline::Char('\\'),
            },
            '{' if rest.starts_with("{{") => {
                let after = &rest[2..];
                let Some(close) = after.find("}}") else {
                    return Err(syntax(line, "a {{ is not closed by }} on the same line"));
                };
                let inside = &after[..close];
                if inside.contains("{{") {
                    return Err(syntax(line, "a {{ is not closed by }} before the next {{"));
                }
                let name = inside.trim();
                if name.is_empty() {
                    return Err(syntax(line, "a {{ }} has no variable name inside"));
                }
                if !is_known(name) {
                    return Err(TemplateError::Unknown { name: name.to_owned() });
                }
                taken = 2 + close + 2;
                Inline::Var(variable_index(names, name, line)?)
            }
            '*' if rest.starts_with("**") => {
                taken = 2;
                Inline::Delim(Delim::DoubleStar)
            }
            '*' => Inline::Delim(Delim::Star),
            '_' if rest.starts_with("__") => {
                taken = 2;
                Inline::Delim(Delim::DoubleUnderscore)
            }
            '_' => Inline::Delim(Delim::Underscore),
            '|' => Inline::Pipe,
            _ => Inline::Char(c),
        };
        out.push(inline);
        rest = &rest[taken..];
    }
    Ok(out)
}

/// The index of `name` in `names`, adding it on first use.
fn variable_index(names: &mut Vec<String>, name: &str, line: usize) -> Result<usize, TemplateError> {
    if let Some(index) = names.iter().position(|known| known == name) {
        return Ok(index);
    }
    if names.len() >= MAX_VARIABLES {
        return Err(syntax(line, &format!("the template uses more than {MAX_VARIABLES} different variables")));
    }
    names.push(name.to_owned());
    Ok(names.len() - 1)
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

fn render_block(block: &Block, values: &[String], out: &mut String) {
    match block {
        Block::Heading(level, inlines) => {
            out.push_str(&format!("<h{level}>"));
            render_inline(inlines, values, out);
            out.push_str(&format!("</h{level}>"));
        }
        Block::Paragraph(inlines) => {
            out.push_str("<p>");
            render_inline(inlines, values, out);
            out.push_str("</p>");
        }
        Block::List { start, items } => {
            let close = match start {
                None => {
                    out.push_str("<ul>");
                    "</ul>"
                }
                Some(1) => {
                    out.push_str("<ol>");
                    "</ol>"
                }
                // Numbering that continues after a heading (`3. …`) keeps its numbers.
                Some(n) => {
                    out.push_str(&format!("<ol start=\"{n}\">"));
                    "</ol>"
                }
            };
            for item in items {
                out.push_str("\n<li>");
                render_inline(item, values, out);
                out.push_str("</li>");
            }
            out.push('\n');
            out.push_str(close);
        }
        Block::Table { head, rows } => {
            out.push_str("<div class=\"table-wrap\"><table>\n<thead><tr>");
            for cell in head {
                out.push_str("<th>");
                render_inline(cell, values, out);
                out.push_str("</th>");
            }
            out.push_str("</tr></thead>");
            if !rows.is_empty() {
                out.push_str("\n<tbody>");
                for row in rows {
                    out.push_str("\n<tr>");
                    for cell in row {
                        out.push_str("<td>");
                        render_inline(cell, values, out);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>");
                }
                out.push_str("\n</tbody>");
            }
            out.push_str("\n</table></div>");
        }
    }
}

/// Render one block's (or table cell's) inline pieces; emphasis only pairs up within them.
fn render_inline(inlines: &[Inline], values: &[String], out: &mut String) {
    // Where each kind of delimiter may close, in order, so finding an opener's closer is a
    // binary search rather than a scan (a paragraph full of stray `*`s stays linear-ish).
    let mut closers: [Vec<usize>; 4] = Default::default();
    for (j, inline) in inlines.iter().enumerate() {
        if let Inline::Delim(delim) = *inline
            && can_close(inlines, j, delim)
        {
            closers[delim.index()].push(j);
        }
    }
    render_range(inlines, 0, inlines.len(), &closers, values, out);
}

/// Render `inlines[start..end]`. Each opener pairs with the first closer of its kind, so inside a
/// pair there is no closer of that kind left and nesting stays at most four deep.
fn render_range(
    inlines: &[Inline],
    start: usize,
    end: usize,
    closers: &[Vec<usize>; 4],
    values: &[String],
    out: &mut String,
) {
    let mut i = start;
    while i < end {
        match inlines[i] {
            Inline::Char(c) => escape_char(c, out),
            Inline::Pipe => out.push('|'),
            // Values were escaped once up front; `get` only guards against a bug, never a template.
            Inline::Var(k) => out.push_str(values.get(k).map_or("", String::as_str)),
            Inline::Delim(delim) => {
                if let Some(close) = closer(inlines, i, end, delim, closers) {
                    let (open_tag, close_tag) = delim.tags();
                    out.push_str(open_tag);
                    render_range(inlines, i + 1, close, closers, values, out);
                    out.push_str(close_tag);
                    i = close + 1;
                    continue;
                }
                out.push_str(delim.literal());
            }
        }
        i += 1;
    }
}

/// The closer for an opener at `i`, if `i` can open and a closer follows before `end` with
/// something in between.
fn closer(inlines: &[Inline], i: usize, end: usize, delim: Delim, closers: &[Vec<usize>; 4]) -> Option<usize> {
    if !can_open(inlines, i, delim) {
        return None;
    }
    let candidates = &closers[delim.index()];
    let first = candidates.partition_point(|&j| j <= i + 1);
    candidates.get(first).copied().filter(|&j| j < end)
}

/// An opener is followed by text (so `2 * 3` stays literal) and, for `_`, not preceded by a word.
fn can_open(inlines: &[Inline], i: usize, delim: Delim) -> bool {
    let next = inlines.get(i + 1);
    let before = i.checked_sub(1).and_then(|p| inlines.get(p));
    next.is_some_and(|n| !n.is_space()) && !(delim.is_underscore() && before.is_some_and(|b| b.is_wordlike()))
}

/// A closer follows text and, for `_`, is not followed by a word.
fn can_close(inlines: &[Inline], j: usize, delim: Delim) -> bool {
    let before = j.checked_sub(1).and_then(|p| inlines.get(p));
    let next = inlines.get(j + 1);
    before.is_some_and(|b| !b.is_space()) && !(delim.is_underscore() && next.is_some_and(|n| n.is_wordlike()))
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

/// A value as HTML: escaped, with each line break (`\n`, `\r\n` or `\r`) as `<br>` so a postal
/// address keeps its lines. Never read as Markdown.
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            _ => escape_char(c, &mut out),
        }
    }
    out
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
