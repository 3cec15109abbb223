//! Tests of contract templates: each block kind, inline emphasis, escaping, variables and their errors.
//! Compiled only as the `#[cfg(test)]` module of document.rs, so unwraps here never reach a request.

use super::*;

/// Values for a typical two-signatory contract; anything else is missing.
fn sample(name: &str) -> Option<String> {
    let value = match name {
        "customer.name" => "Ada Lovelace",
        "customer.email" => "ada@example.com",
        "customer.org_name" => "Analytical Engines Ltd",
        "customer.address" => "12 Engine Row\nLondon",
        "company.name" => "Kasse Demo",
        "contract.title" => "Service Agreement",
        "signatory.1.name" => "Ada Lovelace",
        "signatory.2.name" => "Charles Babbage",
        "custom.region" => "EU",
        _ => return None,
    };
    Some(value.to_owned())
}

fn html(body: &str) -> String {
    render(body, &sample).unwrap()
}

/// Render with a single variable value, whatever the name.
fn with_value(body: &str, value: &str) -> String {
    let value = value.to_owned();
    render(body, &move |_: &str| Some(value.clone())).unwrap()
}

fn unknown(name: &str) -> TemplateError {
    TemplateError::Unknown { name: name.to_owned() }
}

// --- Block kinds -------------------------------------------------------------------------------

#[test]
fn headings_start_at_h2_because_the_page_title_is_the_h1() {
    assert_eq!(
        html("# One\n## Two\n### Three\n#### Four"),
        "<h2>One</h2>\n<h3>Two</h3>\n<h4>Three</h4>\n<h4>Four</h4>"
    );
}

#[test]
fn a_hash_without_a_space_is_not_a_heading() {
    assert_eq!(html("#hashtag"), "<p>#hashtag</p>");
}

#[test]
fn consecutive_lines_join_into_one_paragraph_and_blank_lines_separate_paragraphs() {
    assert_eq!(html("First line\n  second line  \n\n\nNext"), "<p>First line second line</p>\n<p>Next</p>");
}

#[test]
fn crlf_line_endings_are_accepted() {
    assert_eq!(html("# Title\r\nOne\r\ntwo\r\n\r\nThree\r\n"), "<h2>Title</h2>\n<p>One two</p>\n<p>Three</p>");
}

#[test]
fn dash_and_star_lines_make_a_bulleted_list() {
    assert_eq!(html("- one\n* two\n- three"), "<ul>\n<li>one</li>\n<li>two</li>\n<li>three</li>\n</ul>");
}

#[test]
fn numbered_lines_make_an_ordered_list() {
    assert_eq!(html("1. one\n2. two\n10. ten"), "<ol>\n<li>one</li>\n<li>two</li>\n<li>ten</li>\n</ol>");
}

#[test]
fn an_ordered_list_not_starting_at_one_keeps_its_numbering() {
    assert_eq!(html("3. three\n4. four"), "<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>");
}

#[test]
fn a_list_ends_at_a_blank_line_or_a_non_list_line() {
    assert_eq!(
        html("Intro\n- a\n- b\nAfter\n\n- c\n\n1. d"),
        "<p>Intro</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>After</p>\n<ul>\n<li>c</li>\n</ul>\n<ol>\n<li>d</li>\n</ol>"
    );
}

#[test]
fn switching_between_bullets_and_numbers_starts_a_new_list() {
    assert_eq!(html("- a\n1. b"), "<ul>\n<li>a</li>\n</ul>\n<ol>\n<li>b</li>\n</ol>");
}

#[test]
fn a_pipe_block_with_a_separator_row_is_a_scrollable_table() {
    let body = "| Item | Price |\n|---|:---:|\n| Setup | 100 |\n| Support | 20 |";
    assert_eq!(
        html(body),
        "<div class=\"table-wrap\"><table>\n\
         <thead><tr><th>Item</th><th>Price</th></tr></thead>\n\
         <tbody>\n\
         <tr><td>Setup</td><td>100</td></tr>\n\
         <tr><td>Support</td><td>20</td></tr>\n\
         </tbody>\n\
         </table></div>"
    );
}

#[test]
fn short_table_rows_are_padded_and_long_ones_cut_to_the_header() {
    let body = "| A | B | C |\n| - | - | - |\n| 1 |\n| 1 | 2 | 3 | 4 |";
    assert_eq!(
        html(body),
        "<div class=\"table-wrap\"><table>\n\
         <thead><tr><th>A</th><th>B</th><th>C</th></tr></thead>\n\
         <tbody>\n\
         <tr><td>1</td><td></td><td></td></tr>\n\
         <tr><td>1</td><td>2</td><td>3</td></tr>\n\
         </tbody>\n\
         </table></div>"
    );
}

#[test]
fn a_table_row_without_a_closing_pipe_still_has_its_last_cell() {
    assert_eq!(
        html("| A | B\n|---|---\n| 1 | 2"),
        "<div class=\"table-wrap\"><table>\n<thead><tr><th>A</th><th>B</th></tr></thead>\n<tbody>\n\
         <tr><td>1</td><td>2</td></tr>\n</tbody>\n</table></div>"
    );
}

#[test]
fn a_table_with_only_a_header_has_no_body() {
    assert_eq!(
        html("| A |\n|---|"),
        "<div class=\"table-wrap\"><table>\n<thead><tr><th>A</th></tr></thead>\n</table></div>"
    );
}

#[test]
fn an_escaped_pipe_stays_inside_its_cell() {
    assert_eq!(
        html("| A |\n|---|\n| x \\| y |"),
        "<div class=\"table-wrap\"><table>\n<thead><tr><th>A</th></tr></thead>\n<tbody>\n\
         <tr><td>x | y</td></tr>\n</tbody>\n</table></div>"
    );
}

#[test]
fn a_pipe_block_without_a_separator_row_is_a_paragraph() {
    assert_eq!(html("| a | b |\n| c | d |"), "<p>| a | b | | c | d |</p>");
}

#[test]
fn a_table_interrupts_a_paragraph() {
    assert_eq!(
        html("Prices:\n| A |\n|---|\n| 1 |\nThanks"),
        "<p>Prices:</p>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>A</th></tr></thead>\n<tbody>\n\
         <tr><td>1</td></tr>\n</tbody>\n</table></div>\n<p>Thanks</p>"
    );
}

#[test]
fn an_empty_template_renders_nothing() {
    assert_eq!(html(""), "");
    assert_eq!(html("\n \n\t\n"), "");
}

// --- Inline ------------------------------------------------------------------------------------

#[test]
fn double_stars_make_bold_and_single_stars_or_underscores_make_italic() {
    assert_eq!(
        html("**bold** and *italic* and _also_"),
        "<p><strong>bold</strong> and <em>italic</em> and <em>also</em></p>"
    );
}

#[test]
fn emphasis_nests() {
    assert_eq!(html("**bold _and italic_**"), "<p><strong>bold <em>and italic</em></strong></p>");
}

#[test]
fn emphasis_may_span_lines_of_one_paragraph() {
    assert_eq!(html("*one\ntwo*"), "<p><em>one two</em></p>");
}

#[test]
fn emphasis_does_not_pair_across_blocks() {
    assert_eq!(html("*one\n\ntwo*"), "<p>*one</p>\n<p>two*</p>");
    assert_eq!(html("- *a\n- b*"), "<ul>\n<li>*a</li>\n<li>b*</li>\n</ul>");
}

#[test]
fn an_unmatched_star_is_literal() {
    assert_eq!(html("5 * 3 and *open"), "<p>5 * 3 and *open</p>");
    assert_eq!(html("**never closed"), "<p>**never closed</p>");
}

#[test]
fn underscores_inside_words_are_literal() {
    assert_eq!(html("snake_case_name"), "<p>snake_case_name</p>");
}

#[test]
fn escaped_markers_are_literal() {
    assert_eq!(
        html(r"\*not italic\* \_nor this\_ \{{customer.name}}"),
        "<p>*not italic* _nor this_ {{customer.name}}</p>"
    );
}

#[test]
fn escaped_block_markers_keep_a_line_a_paragraph() {
    assert_eq!(html("\\# not a heading\n\n\\- not a list"), "<p># not a heading</p>\n<p>- not a list</p>");
}

#[test]
fn a_backslash_before_a_letter_is_kept() {
    assert_eq!(html(r"C:\Users"), r"<p>C:\Users</p>");
}

#[test]
fn emphasis_works_in_headings_list_items_and_table_cells() {
    assert_eq!(
        html("# A *b*\n\n- **c**\n\n| _d_ |\n|---|"),
        "<h2>A <em>b</em></h2>\n<ul>\n<li><strong>c</strong></li>\n</ul>\n\
         <div class=\"table-wrap\"><table>\n<thead><tr><th><em>d</em></th></tr></thead>\n</table></div>"
    );
}

// --- Escaping ----------------------------------------------------------------------------------

#[test]
fn raw_html_in_the_template_is_shown_as_text() {
    assert_eq!(
        html("<b onclick=\"x()\">Tom & Jerry's</b>"),
        "<p>&lt;b onclick=&quot;x()&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;</p>"
    );
}

#[test]
fn links_and_images_are_plain_text() {
    assert_eq!(html("[x](javascript:alert(1)) ![i](a.png)"), "<p>[x](javascript:alert(1)) ![i](a.png)</p>");
}

#[test]
fn a_script_tag_as_a_customer_name_is_shown_as_text() {
    assert_eq!(
        with_value("Dear {{customer.name}},", "<script>alert(1)</script>"),
        "<p>Dear &lt;script&gt;alert(1)&lt;/script&gt;,</p>"
    );
}

#[test]
fn values_are_never_read_as_markdown() {
    assert_eq!(
        with_value("Dear {{customer.name}}", "**Bob** _x_ | {{customer.email}}"),
        "<p>Dear **Bob** _x_ | {{customer.email}}</p>"
    );
    assert_eq!(with_value("{{customer.name}}", "# Not a heading"), "<p># Not a heading</p>");
}

#[test]
fn a_value_cannot_close_emphasis_opened_in_the_template() {
    assert_eq!(with_value("*{{customer.name}}", "x*"), "<p>*x*</p>");
}

#[test]
fn a_newline_in_a_value_becomes_a_line_break() {
    assert_eq!(html("{{customer.address}}"), "<p>12 Engine Row<br>London</p>");
    assert_eq!(with_value("{{customer.address}}", "a\r\nb\rc\nd"), "<p>a<br>b<br>c<br>d</p>");
}

// --- Variables ---------------------------------------------------------------------------------

#[test]
fn variables_fill_every_block_kind() {
    let body = "# {{contract.title}}\n{{ customer.name }} of {{customer.org_name}}\n- {{signatory.1.name}}\n\n\
                | Region |\n|---|\n| {{custom.region}} |";
    assert_eq!(
        html(body),
        "<h2>Service Agreement</h2>\n<p>Ada Lovelace of Analytical Engines Ltd</p>\n<ul>\n<li>Ada Lovelace</li>\n</ul>\n\
         <div class=\"table-wrap\"><table>\n<thead><tr><th>Region</th></tr></thead>\n<tbody>\n\
         <tr><td>EU</td></tr>\n</tbody>\n</table></div>"
    );
}

#[test]
fn emphasis_wraps_a_variable() {
    assert_eq!(html("**{{customer.name}}** _{{custom.region}}_"), "<p><strong>Ada Lovelace</strong> <em>EU</em></p>");
}

#[test]
fn variables_lists_distinct_names_in_order_of_first_use() {
    let body =
        "{{customer.name}} {{ company.name }}\n- {{customer.name}}\n| {{custom.a-b_1}} |\n|---|\n# {{company.name}}";
    assert_eq!(variables(body).unwrap(), ["customer.name", "company.name", "custom.a-b_1"]);
}

#[test]
fn variables_of_a_template_without_any_is_empty() {
    assert_eq!(variables("Just text, {single braces} and }} stray closers.").unwrap(), Vec::<String>::new());
}

#[test]
fn every_fixed_and_patterned_name_is_known() {
    for name in FIXED_VARIABLES {
        assert!(is_known(name), "{name}");
    }
    for name in ["signatory.1.name", "signatory.9.email", "signatory.20.title", "custom.x", "custom.Region_2-b"] {
        assert!(is_known(name), "{name}");
    }
    assert!(is_known(&format!("custom.{}", "k".repeat(64))));
}

#[test]
fn names_kasse_does_not_know_are_refused_as_unknown() {
    for name in [
        "customer.shoe_size",
        "signatory.0.name",
        "signatory.21.name",
        "signatory.01.name",
        "signatory.1.phone",
        "signatory.name",
        "custom.",
        "custom.a b",
        "custom.a.b",
        "Customer.Name",
    ] {
        assert_eq!(variables(&format!("Hi {{{{{name}}}}}")), Err(unknown(name)), "{name}");
    }
    assert!(!is_known(&format!("custom.{}", "k".repeat(65))));
}

#[test]
fn an_unknown_name_is_refused_by_render_too() {
    assert_eq!(render("{{customer.shoe_size}}", &sample), Err(unknown("customer.shoe_size")));
}

#[test]
fn an_unclosed_variable_is_a_syntax_error_on_its_line() {
    let err = variables("# Title\n\nDear {{customer.name\n}}").unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { line: 3, .. }), "{err:?}");
}

#[test]
fn an_unclosed_variable_in_a_table_row_names_that_row() {
    let err = variables("| A |\n|---|\n| ok |\n| {{custom.x |").unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { line: 4, .. }), "{err:?}");
}

#[test]
fn an_empty_variable_is_a_syntax_error() {
    let err = variables("a\nb {{  }}").unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { line: 2, .. }), "{err:?}");
}

#[test]
fn a_variable_opened_inside_another_is_a_syntax_error() {
    let err = variables("{{customer.name {{company.name}}").unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { line: 1, .. }), "{err:?}");
}

#[test]
fn a_missing_value_is_refused_naming_the_variable() {
    assert_eq!(
        render("Signed by {{signatory.1.name}} and {{signatory.3.name}}", &sample),
        Err(TemplateError::Missing { name: "signatory.3.name".to_owned() })
    );
    assert_eq!(render("{{custom.vat_id}}", &sample), Err(TemplateError::Missing { name: "custom.vat_id".to_owned() }));
}

#[test]
fn a_body_over_the_size_limit_is_a_syntax_error_on_line_one() {
    let err = variables(&"a".repeat(MAX_BODY_BYTES + 1)).unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { line: 1, .. }), "{err:?}");
    assert!(variables(&"a".repeat(MAX_BODY_BYTES)).is_ok());
}

#[test]
fn more_than_two_hundred_distinct_variables_are_refused() {
    let body: String = (0..=MAX_VARIABLES).map(|k| format!("{{{{custom.v{k}}}}}\n")).collect();
    let err = variables(&body).unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { line: 201, .. }), "{err:?}");
    let ok: String = (0..MAX_VARIABLES).map(|k| format!("{{{{custom.v{k}}}}} {{{{custom.v{k}}}}}\n")).collect();
    assert_eq!(variables(&ok).unwrap().len(), MAX_VARIABLES);
}

#[test]
fn error_messages_name_what_to_fix() {
    assert_eq!(
        unknown("customer.shoe_size").to_string(),
        "{{customer.shoe_size}} is not a variable Kasse knows; check its spelling, or use a custom.KEY variable \
         for a value you give per contract."
    );
    assert_eq!(
        TemplateError::Missing { name: "custom.region".to_owned() }.to_string(),
        "The template uses {{custom.region}}, but this contract has no value for it; fill it in first."
    );
    assert_eq!(
        variables("x {{customer.name").unwrap_err().to_string(),
        "Line 1 of the template: a {{ is not closed by }} on the same line."
    );
    assert!(unknown(&"x".repeat(1000)).to_string().len() < 200);
}

// --- Determinism and hashing -------------------------------------------------------------------

#[test]
fn rendering_is_deterministic() {
    let body = "# {{contract.title}}\n**Parties:** {{customer.name}}, {{company.name}}\n\n- a\n- *b*\n\n\
                | A | B |\n|---|---|\n| {{customer.address}} | 2 |";
    let first = html(body);
    for _ in 0..5 {
        assert_eq!(html(body), first);
    }
    assert_eq!(sha256_hex(&html(body)), sha256_hex(&first));
}

#[test]
fn sha256_hex_is_lowercase_hex_of_the_utf8_bytes() {
    assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

#[test]
fn a_paragraph_of_stray_stars_renders_quickly() {
    let body = "a *b ".repeat(MAX_BODY_BYTES / 5);
    let started = std::time::Instant::now();
    let out = html(&body);
    assert!(out.starts_with("<p>a *b a *b"));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
