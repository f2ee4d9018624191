//! Markdown bodies: parse with comrak, check, rewrite links and images,
//! turn `:::` blocks into callouts and question placeholders, render,
//! sanitise, and extract headings and plain text.
//!
//! Author HTML is removed from the tree before rendering, so the only raw
//! HTML left is what this module inserts; the result is still sanitised
//! with ammonia as a second line of defence.

use crate::diag::{Diagnostics, Pos, SourceFile};
use crate::tree::{self, Tree};
use comrak::nodes::{AstNode, NodeHtmlBlock, NodeValue};
use comrak::{format_html, parse_document, Arena, Options};
use outpost_model::QuestionType;
use outpost_package::{Heading, OptionText};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

/// Which kind of file a body belongs to: what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// A lesson or a quiz: callouts and questions.
    Lesson,
    /// A module's introduction: callouts, no questions.
    ModuleIntro,
    /// A file of the assessment's bank: questions only.
    Bank,
}

/// Where link and image targets are looked up.
pub(crate) struct Targets<'a> {
    pub tree: &'a Tree,
    /// Lesson files whose front matter could not be read: links to them
    /// are not checked (the file's own error says what is wrong).
    pub unreadable: &'a BTreeSet<String>,
    /// Lesson files by tree path: (lesson id, heading anchors).
    pub lessons: &'a BTreeMap<String, (String, Vec<String>)>,
    /// The course's `assets/` folder as a tree path.
    pub assets_dir: &'a str,
}

pub(crate) struct BodyCtx<'a> {
    pub file: &'a SourceFile,
    /// This file's tree path.
    pub rel: &'a str,
    /// File lines before the body (the front matter).
    pub lines_before: usize,
    pub lang: &'a str,
    pub kind: BodyKind,
    pub targets: &'a Targets<'a>,
}

#[derive(Debug, Clone)]
pub(crate) struct Question {
    pub id: String,
    pub pos: Pos,
    pub question_type: QuestionType,
    /// Whether each option is correct, in order.
    pub correct: Vec<bool>,
    /// No error was found in the question (so its key can be compared
    /// with the other languages').
    pub valid: bool,
    pub stem_html: String,
    pub options: Vec<OptionText>,
    pub explanation_html: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Body {
    pub html: String,
    pub text: String,
    pub headings: Vec<Heading>,
    pub questions: Vec<Question>,
    /// Asset names the body shows.
    pub assets: BTreeSet<String>,
    /// The body could not be read at all (too deep): what it holds is unknown.
    pub refused: bool,
}

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.strikethrough = true;
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.tasklist = true;
    o.extension.block_directive = true;
    // Any mark in `- [?]` parses, so a wrong mark gets a precise error.
    o.parse.relaxed_tasklist_matching = true;
    // Author HTML is removed from the tree first; what is left is ours.
    o.render.r#unsafe = true;
    o
}

const CALLOUTS: [&str; 4] = ["note", "warning", "checklist", "scenario"];

/// The heading anchors of a body, as [`render`] gives them; `None` if
/// [`render`] will refuse the body.
pub(crate) fn anchors(body: &str) -> Option<Vec<String>> {
    let arena = Arena::new();
    let root = parse_document(&arena, body, &options());
    if too_deep(root).is_some() {
        return None;
    }
    Some(
        collect_headings(root)
            .into_iter()
            .map(|(_, h)| h.anchor)
            .collect(),
    )
}

/// Headings outside questions, in document order, with unique anchors.
fn collect_headings<'a>(root: &'a AstNode<'a>) -> Vec<(&'a AstNode<'a>, Heading)> {
    let mut used = HashSet::new();
    let mut out = Vec::new();
    for node in root.descendants() {
        let level = match &node.data.borrow().value {
            NodeValue::Heading(h) => h.level,
            _ => continue,
        };
        if inside_question(node) {
            continue;
        }
        let text = collapse(&inline_text(node));
        let anchor = unique_slug(&text, &mut used);
        out.push((
            node,
            Heading {
                level,
                anchor,
                text,
            },
        ));
    }
    out
}

fn inside_question<'a>(node: &'a AstNode<'a>) -> bool {
    node.ancestors()
        .skip(1)
        .any(|a| match &a.data.borrow().value {
            NodeValue::BlockDirective(d) => directive_kind(&d.info) == "question",
            _ => false,
        })
}

fn directive_kind(info: &str) -> &str {
    info.split_whitespace().next().unwrap_or("")
}

/// A stable anchor for a heading: lowercase letters and digits, runs of
/// anything else become one `-`; a repeat gets `-2`, `-3`, ….
pub(crate) fn slug(text: &str) -> String {
    let mut s = String::new();
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if gap && !s.is_empty() {
                s.push('-');
            }
            gap = false;
            s.push(c);
        } else if c != '\'' && c != '’' {
            gap = true;
        }
    }
    if s.is_empty() {
        s.push_str("section");
    }
    s
}

fn unique_slug(text: &str, used: &mut HashSet<String>) -> String {
    let base = slug(text);
    let mut candidate = base.clone();
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

/// The text of a node's inlines (alt text of images included).
fn inline_text<'a>(node: &'a AstNode<'a>) -> String {
    let mut s = String::new();
    for n in node.descendants() {
        match &n.data.borrow().value {
            NodeValue::Text(t) => s.push_str(t),
            NodeValue::Code(c) => s.push_str(&c.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => s.push(' '),
            _ => {}
        }
    }
    s
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for the search index: every block on its own line, questions left
/// out (their feedback would give answers away).
fn plain_text<'a>(node: &'a AstNode<'a>, out: &mut String) {
    let value = node.data.borrow().value.clone();
    match &value {
        NodeValue::Text(t) => out.push_str(t),
        NodeValue::Code(c) => out.push_str(&c.literal),
        NodeValue::CodeBlock(c) => {
            out.push_str(&c.literal);
            out.push('\n');
        }
        NodeValue::SoftBreak | NodeValue::LineBreak => out.push(' '),
        NodeValue::HtmlBlock(_) | NodeValue::HtmlInline(_) => {}
        NodeValue::BlockDirective(d) => {
            if directive_kind(&d.info) == "question" {
                return;
            }
            let title = d
                .info
                .split_once(char::is_whitespace)
                .map(|(_, t)| t.trim());
            if let Some(t) = title.filter(|t| !t.is_empty()) {
                out.push_str(t);
                out.push('\n');
            }
            for c in node.children() {
                plain_text(c, out);
            }
        }
        NodeValue::TableCell => {
            for c in node.children() {
                plain_text(c, out);
            }
            out.push(' ');
        }
        v => {
            for c in node.children() {
                plain_text(c, out);
            }
            if v.block() {
                out.push('\n');
            }
        }
    }
}

fn html_node<'a>(arena: &'a Arena<'a>, literal: String) -> &'a AstNode<'a> {
    arena.alloc(
        NodeValue::HtmlBlock(NodeHtmlBlock {
            block_type: 6,
            literal,
        })
        .into(),
    )
}

pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A callout's title when the author gave none, in the lesson's language.
fn default_title(kind: &str, lang: &str) -> &'static str {
    let base = lang.split('-').next().unwrap_or(lang);
    match (kind, base) {
        ("note", "fr") => "Remarque",
        ("note", "es") => "Nota",
        ("note", "ar") => "ملاحظة",
        ("note", _) => "Note",
        ("warning", "fr") => "Attention",
        ("warning", "es") => "Advertencia",
        ("warning", "ar") => "تحذير",
        ("warning", _) => "Warning",
        ("checklist", "fr") => "Liste de contrôle",
        ("checklist", "es") => "Lista de verificación",
        ("checklist", "ar") => "قائمة مرجعية",
        ("checklist", _) => "Checklist",
        ("scenario", "fr") => "Scénario",
        ("scenario", "es") => "Escenario",
        ("scenario", "ar") => "سيناريو",
        _ => "Scenario",
    }
}

struct Run<'c, 'd> {
    ctx: &'c BodyCtx<'c>,
    diags: &'d mut Diagnostics,
    assets: BTreeSet<String>,
}

impl Run<'_, '_> {
    /// File position of a comrak (line, byte column) in the body.
    fn pos(&self, line: usize, col: usize) -> Pos {
        self.ctx
            .file
            .pos_at(self.ctx.lines_before + line.max(1), col.max(1))
    }

    fn node_pos<'a>(&self, node: &'a AstNode<'a>) -> Pos {
        // Some inlines carry no position; use the nearest ancestor's.
        for n in node.ancestors() {
            let sp = n.data.borrow().sourcepos;
            if sp.start.line > 0 {
                return self.pos(sp.start.line, sp.start.column);
            }
        }
        self.pos(1, 1)
    }

    fn error(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags.error(&self.ctx.file.path, pos, msg);
    }

    fn warning(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags.warning(&self.ctx.file.path, pos, msg);
    }

    fn dir(&self) -> &str {
        self.ctx.rel.rsplit_once('/').map_or("", |(d, _)| d)
    }

    /// Rewrite a link target: a lesson file becomes `lesson:ID[#anchor]`.
    fn link(&mut self, url: &str, pos: Pos, own: &[String]) -> Option<String> {
        if url.is_empty() {
            self.error(pos, "link has no target");
            return None;
        }
        if let Some(anchor) = url.strip_prefix('#') {
            if !own.iter().any(|a| a == anchor) {
                self.error(
                    pos,
                    format!(
                        "link to `#{anchor}`: this lesson has no heading with that anchor{}",
                        known_anchors(own)
                    ),
                );
            }
            return Some(url.to_string());
        }
        if let Some(scheme) = scheme(url) {
            return match scheme.to_ascii_lowercase().as_str() {
                "https" | "http" | "mailto" => Some(url.to_string()),
                _ => {
                    self.error(
                        pos,
                        format!("link to `{url}`: only lessons, https:// pages and mailto: addresses can be linked"),
                    );
                    None
                }
            };
        }
        let (path, anchor) = match url.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (url, None),
        };
        if path.contains('?') {
            self.error(
                pos,
                format!("link to `{url}`: a lesson link has no `?` part"),
            );
            return None;
        }
        let Some(target) = tree::resolve(self.dir(), path) else {
            self.error(pos, format!("link to `{url}` points outside the course"));
            return None;
        };
        let targets = self.ctx.targets;
        if targets.unreadable.contains(&target) {
            return None;
        }
        if let Some((id, anchors)) = targets.lessons.get(&target) {
            let mut out = format!("lesson:{id}");
            if let Some(a) = anchor {
                if !anchors.iter().any(|x| x == a) {
                    self.error(
                        pos,
                        format!(
                            "link to `{url}`: lesson `{id}` has no heading with anchor `#{a}`{}",
                            known_anchors(anchors)
                        ),
                    );
                }
                out.push('#');
                out.push_str(a);
            }
            return Some(out);
        }
        let msg = if targets.tree.files.contains_key(&target) {
            if target.ends_with(".md") {
                format!("link to `{url}`: that file is not a lesson (only lessons can be linked)")
            } else {
                format!("link to `{url}`: only lessons and web pages can be linked; show an image with `![alt text](…)`")
            }
        } else if path.ends_with(".md") {
            format!("link to a missing lesson `{url}`")
        } else {
            format!("link to `{url}`: no such lesson file (link to the lesson's .md file)")
        };
        self.error(pos, msg);
        None
    }

    /// Rewrite an image source to `asset:NAME`.
    fn image(&mut self, url: &str, alt: &str, pos: Pos) -> Option<String> {
        if alt.trim().is_empty() {
            self.error(
                pos,
                format!("image `{url}` has no alt text: say what it shows in `![…]`"),
            );
        }
        if scheme(url).is_some() {
            self.error(
                pos,
                format!("image `{url}`: remote images are not allowed; put the file in the course's assets/ folder"),
            );
            return None;
        }
        let path = url.split(['#', '?']).next().unwrap_or(url);
        let targets = self.ctx.targets;
        let Some(target) = tree::resolve(self.dir(), path) else {
            self.error(pos, format!("image `{url}` points outside the course"));
            return None;
        };
        if targets.tree.skipped.contains(&target) {
            return None;
        }
        if !targets.tree.files.contains_key(&target) {
            self.error(pos, format!("image `{url}` does not exist"));
            return None;
        }
        let prefix = format!("{}/", targets.assets_dir);
        let name = if targets.assets_dir.is_empty() {
            Some(target.as_str())
        } else {
            target.strip_prefix(&prefix)
        };
        let Some(name) = name else {
            self.error(
                pos,
                format!("image `{url}` must be in the course's assets/ folder"),
            );
            return None;
        };
        if outpost_package::media_type(name).is_none() {
            self.error(
                pos,
                format!("image `{url}`: not a supported image type (svg, png, jpg, webp, gif)"),
            );
            return None;
        }
        self.assets.insert(name.to_string());
        Some(format!("asset:{name}"))
    }
}

fn known_anchors(anchors: &[String]) -> String {
    if anchors.is_empty() {
        String::new()
    } else {
        format!(
            " (it has: {})",
            anchors
                .iter()
                .map(|a| format!("#{a}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The URL scheme, if `url` has one (`https:`, `mailto:`, `javascript:`…).
fn scheme(url: &str) -> Option<&str> {
    let (s, _) = url.split_once(':')?;
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(s)
}

/// Deeper than this, a body is refused: no lesson needs it, and rendering
/// and sanitising recurse.
const MAX_DEPTH: usize = 100;

/// Where the tree is deeper than [`MAX_DEPTH`], if it is (found without
/// recursion).
fn too_deep<'a>(root: &'a AstNode<'a>) -> Option<&'a AstNode<'a>> {
    let mut depth = 0usize;
    for edge in root.traverse() {
        match edge {
            comrak::arena_tree::NodeEdge::Start(n) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(n);
                }
            }
            comrak::arena_tree::NodeEdge::End(_) => depth = depth.saturating_sub(1),
        }
    }
    None
}

/// Parse, check and render one Markdown body.
pub(crate) fn render(ctx: &BodyCtx<'_>, body: &str, diags: &mut Diagnostics) -> Body {
    let arena = Arena::new();
    let opts = options();
    let root = parse_document(&arena, body, &opts);
    let mut run = Run {
        ctx,
        diags,
        assets: BTreeSet::new(),
    };
    if let Some(n) = too_deep(root) {
        let p = run.node_pos(n);
        run.error(
            p,
            format!("Markdown nested more than {MAX_DEPTH} levels deep (quotes, lists or emphasis inside each other)"),
        );
        return Body {
            refused: true,
            ..Body::default()
        };
    }

    let headings = collect_headings(root);
    let own: Vec<String> = headings.iter().map(|(_, h)| h.anchor.clone()).collect();
    let mut text = String::new();
    plain_text(root, &mut text);

    let nodes: Vec<_> = root.descendants().collect();
    // (directive, whether it sits inside another block), decided before
    // anything is moved.
    let mut directives = Vec::new();
    for node in nodes {
        let value = node.data.borrow().value.clone();
        match value {
            NodeValue::HtmlBlock(h) => {
                if !is_comment(&h.literal) {
                    let p = run.node_pos(node);
                    run.warning(p, "raw HTML is not allowed; it was removed");
                }
                node.detach();
            }
            NodeValue::HtmlInline(h) => {
                if !is_comment(&h) {
                    let p = run.node_pos(node);
                    run.warning(p, "raw HTML is not allowed; it was removed");
                }
                node.detach();
            }
            NodeValue::Link(l) => {
                let p = run.node_pos(node);
                let url = run.link(&l.url, p, &own).unwrap_or_default();
                if let NodeValue::Link(l) = &mut node.data.borrow_mut().value {
                    l.url = url;
                }
            }
            NodeValue::Image(l) => {
                let p = run.node_pos(node);
                let alt = inline_text(node);
                let url = run.image(&l.url, &alt, p).unwrap_or_default();
                if let NodeValue::Image(l) = &mut node.data.borrow_mut().value {
                    l.url = url;
                }
            }
            NodeValue::Heading(h) if h.level == 1 && ctx.kind != BodyKind::Bank => {
                let p = run.node_pos(node);
                run.warning(
                    p,
                    "start headings at `##`: the lesson title comes from the front matter",
                );
            }
            NodeValue::BlockDirective(_) => {
                let nested = node
                    .parent()
                    .is_some_and(|p| !matches!(p.data.borrow().value, NodeValue::Document));
                directives.push((node, nested));
            }
            _ => {}
        }
    }

    if ctx.kind == BodyKind::Bank {
        for node in root.children() {
            let is_question = match &node.data.borrow().value {
                NodeValue::BlockDirective(d) => directive_kind(&d.info) == "question",
                _ => false,
            };
            if !is_question {
                let p = run.node_pos(node);
                run.error(p, "only `:::question` blocks belong in an assessment file");
            }
        }
    }

    let mut questions = Vec::new();
    for (node, nested) in directives {
        let info_line = node.data.borrow().sourcepos;
        let Some(d) = parse_directive(&run, info_line.start.line, info_line.start.column) else {
            continue;
        };
        if nested {
            run.error(
                d.pos,
                format!("a `:::{}` block cannot be inside another block, a list or a quote; close the outer block first", d.kind),
            );
        }
        let end_line = ctx.file.line(ctx.lines_before + info_line.end.line.max(1));
        let closed = info_line.end.line > info_line.start.line && is_fence(end_line);
        if !closed && !d.kind.is_empty() {
            run.error(
                d.pos,
                format!(
                    "`:::{}` block is not closed: add a line `:::` after its content",
                    d.kind
                ),
            );
        }
        match d.kind.as_str() {
            "" => {
                run.error(
                    d.pos,
                    "`:::` with no block kind: a block opens with `:::note`, `:::warning`, `:::checklist`, `:::scenario` or `:::question` (is this a stray closing line?)",
                );
                unwrap_children(node);
            }
            k if CALLOUTS.contains(&k) => {
                if ctx.kind == BodyKind::Bank {
                    unwrap_children(node);
                    continue;
                }
                let title = if d.rest.trim().is_empty() {
                    default_title(k, ctx.lang).to_string()
                } else {
                    d.rest.trim().to_string()
                };
                node.insert_before(html_node(
                    &arena,
                    format!(
                        "<aside class=\"callout {k}\" role=\"note\">\n<p class=\"callout-title\">{}</p>\n",
                        escape(&title)
                    ),
                ));
                let children: Vec<_> = node.children().collect();
                for c in children {
                    node.insert_before(c);
                }
                node.insert_before(html_node(&arena, "</aside>\n".into()));
                node.detach();
            }
            "question" => {
                if ctx.kind == BodyKind::ModuleIntro {
                    run.error(
                        d.pos,
                        "questions belong in lessons and assessment files, not in module.md",
                    );
                }
                let q = question(&mut run, &arena, node, &d);
                if let Some(q) = q {
                    node.insert_before(html_node(
                        &arena,
                        format!(
                            "<div class=\"question\" data-question-id=\"{}\"></div>\n",
                            escape(&q.id)
                        ),
                    ));
                    questions.push(q);
                }
                node.detach();
            }
            other => {
                let hint = crate::tomlx::closest(
                    other,
                    &["note", "warning", "checklist", "scenario", "question"],
                )
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
                run.error(
                    d.pos,
                    format!("unknown block `:::{other}`: use note, warning, checklist, scenario or question{hint}"),
                );
                unwrap_children(node);
            }
        }
    }

    let html = add_heading_ids(&to_html(root, &opts), &headings);
    Body {
        html: sanitize(&html),
        text: tidy_text(&text),
        headings: headings.into_iter().map(|(_, h)| h).collect(),
        questions,
        assets: run.assets,
        refused: false,
    }
}

fn is_comment(html: &str) -> bool {
    let t = html.trim();
    t.starts_with("<!--") && t.ends_with("-->")
}

fn is_fence(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && t.chars().all(|c| c == ':')
}

/// Replace a directive by its content (after an error, to keep going).
fn unwrap_children<'a>(node: &'a AstNode<'a>) {
    let children: Vec<_> = node.children().collect();
    for c in children {
        node.insert_before(c);
    }
    node.detach();
}

fn to_html<'a>(root: &'a AstNode<'a>, opts: &Options<'_>) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = format_html(root, opts, &mut out);
    out
}

/// Give each rendered `<hN>` its anchor. Headings are rendered in document
/// order and no other `<hN>` can appear (author HTML is gone, text is
/// escaped), so the n-th tag is the n-th heading.
fn add_heading_ids<'a>(html: &str, headings: &[(&'a AstNode<'a>, Heading)]) -> String {
    let mut out = String::with_capacity(html.len() + headings.len() * 16);
    let mut rest = html;
    let mut hs = headings.iter();
    while let Some(i) = rest.find("<h") {
        let tag = rest.get(i..i + 4).unwrap_or("");
        let b = tag.as_bytes();
        if b.len() == 4 && (b'1'..=b'6').contains(&b[2]) && b[3] == b'>' {
            out.push_str(&rest[..i]);
            match hs.next() {
                Some((_, h)) => {
                    out.push_str(&format!("<h{} id=\"{}\">", b[2] as char, escape(&h.anchor)))
                }
                None => out.push_str(tag),
            }
            rest = &rest[i + 4..];
        } else {
            out.push_str(&rest[..i + 2]);
            rest = &rest[i + 2..];
        }
    }
    out.push_str(rest);
    out
}

fn tidy_text(s: &str) -> String {
    s.lines()
        .map(collapse)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

struct Directive {
    kind: String,
    /// Text after the kind: a callout's title or a question's attributes.
    rest: String,
    /// Byte offset of `rest` in the file.
    rest_at: usize,
    pos: Pos,
}

/// Read a directive's first line from the source (not comrak's unescaped
/// copy), so attribute positions are exact.
fn parse_directive(run: &Run<'_, '_>, line: usize, col: usize) -> Option<Directive> {
    let file = run.ctx.file;
    let abs = run.ctx.lines_before + line;
    let text = file.line(abs);
    let start = col.saturating_sub(1).min(text.len());
    let after = text.get(start..)?.trim_start_matches(':');
    let body_at = file.line_start(abs) + text.len() - after.len();
    let trimmed = after.trim_start();
    let kind_at = body_at + (after.len() - trimmed.len());
    let kind: String = trimmed.chars().take_while(|c| !c.is_whitespace()).collect();
    let rest = &trimmed[kind.len()..];
    Some(Directive {
        pos: file.pos(file.line_start(abs) + start),
        rest: rest.to_string(),
        rest_at: kind_at + kind.len(),
        kind,
    })
}

/// `key=value` and `key="value with spaces"` pairs, with their offsets.
fn attributes(run: &mut Run<'_, '_>, d: &Directive) -> Vec<(String, String, Pos)> {
    let file = run.ctx.file;
    let s = d.rest.as_str();
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[start..i];
        let pos = file.pos(d.rest_at + start);
        if i >= b.len() || b[i] != b'=' {
            run.error(
                pos,
                format!("`{key}`: question attributes are written `key=value` (id=…, type=…, title=\"…\")"),
            );
            continue;
        }
        i += 1;
        let value = if i < b.len() && b[i] == b'"' {
            i += 1;
            let vs = i;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            if i >= b.len() {
                run.error(
                    pos,
                    format!("`{key}`: the quoted value is not closed with `\"`"),
                );
                s[vs..].to_string()
            } else {
                i += 1;
                s[vs..i - 1].to_string()
            }
        } else {
            let vs = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            s[vs..i].to_string()
        };
        out.push((key.to_string(), value, pos));
    }
    out
}

fn question<'a>(
    run: &mut Run<'_, '_>,
    arena: &'a Arena<'a>,
    node: &'a AstNode<'a>,
    d: &Directive,
) -> Option<Question> {
    let errors_before = run.diags.errors().count();
    let mut id: Option<(String, Pos)> = None;
    let mut qtype: Option<QuestionType> = None;
    let mut type_given = false;
    let mut title: Option<(String, Pos)> = None;
    for (k, v, pos) in attributes(run, d) {
        match k.as_str() {
            "id" => {
                if let Some(problem) = crate::load::id_problem(&v) {
                    run.error(pos, format!("question id `{v}`: {problem}"));
                }
                id = Some((v, pos));
            }
            "type" => {
                type_given = true;
                qtype = QuestionType::parse(&v);
                if qtype.is_none() {
                    run.error(
                        pos,
                        format!("unknown question type `{v}`: use single, multiple, truefalse or scenario"),
                    );
                }
            }
            "title" => title = Some((v, pos)),
            other => {
                let hint = crate::tomlx::closest(other, &["id", "type", "title"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| "; use id, type and title".into());
                run.error(pos, format!("unknown question attribute `{other}`{hint}"));
            }
        }
    }
    let Some((id, id_pos)) = id else {
        run.error(d.pos, "question has no id: write `:::question id=… type=…`");
        return None;
    };
    if !type_given {
        run.error(
            d.pos,
            format!(
                "question `{id}` has no type: add type=single, multiple, truefalse or scenario"
            ),
        );
    }
    if let (Some((_, pos)), Some(t)) = (&title, qtype) {
        if t != QuestionType::Scenario {
            run.error(
                *pos,
                format!("question `{id}`: title=… is only for scenario questions"),
            );
        }
    }

    // Stem, options, explanation.
    let children: Vec<_> = node.children().collect();
    let is_option_list = |n: &'a AstNode<'a>| {
        matches!(n.data.borrow().value, NodeValue::List(_))
            && n.children()
                .any(|i| matches!(i.data.borrow().value, NodeValue::TaskItem(_)))
    };
    let list_at = children.iter().position(|n| is_option_list(n));
    let explanation_at = children.iter().position(|n| starts_with_explanation(n));
    let mut stem: Vec<_> = Vec::new();
    let mut explanation: Vec<_> = Vec::new();
    let mut correct = Vec::new();
    let mut option_texts = Vec::new();
    match list_at {
        None => {
            run.error(
                d.pos,
                format!("question `{id}` has no options: list them as `- [x] correct` and `- [ ] wrong` items"),
            );
        }
        Some(li) => {
            if let Some(ei) = explanation_at.filter(|&e| e < li) {
                let p = run.node_pos(children[ei]);
                run.error(
                    p,
                    format!("question `{id}`: `Explanation:` goes after the options"),
                );
            }
            stem.extend(children[..li].iter().copied());
            let list = children[li];
            let items: Vec<_> = list.children().collect();
            for (n, item) in items.iter().enumerate() {
                let oid = option_id(n);
                let ip = run.node_pos(item);
                let mark = match &item.data.borrow().value {
                    NodeValue::TaskItem(t) => Some(t.symbol),
                    _ => None,
                };
                match mark {
                    None => run.error(
                        ip,
                        format!("option {oid} of question `{id}` has no `[x]` or `[ ]` mark"),
                    ),
                    Some(Some(c)) if c != 'x' && c != 'X' => run.error(
                        ip,
                        format!("option {oid} of question `{id}`: `[{c}]` is not an answer mark; use `[x]` for a correct option and `[ ]` for a wrong one"),
                    ),
                    _ => {}
                }
                correct.push(matches!(mark, Some(Some('x' | 'X'))));
                let parts: Vec<_> = item.children().collect();
                let (feedback, text): (Vec<_>, Vec<_>) = parts
                    .into_iter()
                    .partition(|p| matches!(p.data.borrow().value, NodeValue::BlockQuote));
                if text.is_empty() {
                    run.error(ip, format!("option {oid} of question `{id}` has no text"));
                }
                if feedback.is_empty() {
                    run.error(
                        ip,
                        format!("option {oid} of question `{id}` has no feedback: add an indented `> …` line under it"),
                    );
                }
                let fb: Vec<_> = feedback.iter().flat_map(|q| q.children()).collect();
                option_texts.push(OptionText {
                    id: oid,
                    html: fragment(arena, text),
                    feedback_html: fragment(arena, fb),
                });
            }
            let after = &children[li + 1..];
            let ex = after.iter().position(|n| starts_with_explanation(n));
            let between = &after[..ex.unwrap_or(after.len())];
            for n in between {
                let p = run.node_pos(n);
                let msg = if matches!(n.data.borrow().value, NodeValue::BlockQuote) {
                    format!("question `{id}`: feedback must be indented under its option (start the `>` line with spaces)")
                } else {
                    format!("question `{id}`: only `Explanation: …` may follow the options (a question has one list of options)")
                };
                run.error(p, msg);
            }
            if let Some(ex) = ex {
                explanation.extend(after[ex..].iter().copied());
            }
        }
    }
    if explanation.is_empty() {
        run.error(
            d.pos,
            format!("question `{id}` has no explanation: end it with a paragraph starting `Explanation:`"),
        );
    } else {
        strip_explanation_label(explanation[0]);
    }

    if let Some(t) = qtype {
        let n_correct = correct.iter().filter(|c| **c).count();
        if list_at.is_some() {
            if correct.len() < 2 {
                run.error(d.pos, format!("question `{id}` needs at least two options"));
            }
            if t == QuestionType::TrueFalse && correct.len() != 2 {
                run.error(
                    d.pos,
                    format!("question `{id}` is truefalse: it has exactly two options, True and False (it has {})", correct.len()),
                );
            }
            if n_correct == 0 {
                run.error(
                    d.pos,
                    format!(
                        "question `{id}` has no correct answer: mark the right option with `[x]`"
                    ),
                );
            } else if t.single_answer() && n_correct > 1 {
                run.error(
                    d.pos,
                    format!("question `{id}` is {}: exactly one option may be correct, {n_correct} are marked `[x]`", t.as_str()),
                );
            }
        }
    }

    let mut stem_html = String::new();
    if let Some((t, _)) = &title {
        stem_html.push_str(&format!(
            "<p class=\"scenario-title\"><strong>{}</strong></p>\n",
            escape(t)
        ));
    }
    stem_html.push_str(&fragment(arena, stem));
    Some(Question {
        id,
        pos: id_pos,
        question_type: qtype.unwrap_or(QuestionType::Single),
        valid: run.diags.errors().count() == errors_before,
        correct,
        stem_html: sanitize(&stem_html),
        options: option_texts,
        explanation_html: fragment(arena, explanation),
    })
}

fn option_id(n: usize) -> String {
    // a..z, then aa, ab, … (a question never has that many, but ids stay unique).
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    if n < 26 {
        (letters[n] as char).to_string()
    } else {
        format!(
            "{}{}",
            letters[(n / 26 - 1) % 26] as char,
            letters[n % 26] as char
        )
    }
}

fn starts_with_explanation<'a>(n: &'a AstNode<'a>) -> bool {
    if !matches!(n.data.borrow().value, NodeValue::Paragraph) {
        return false;
    }
    n.first_child()
        .is_some_and(|t| match &t.data.borrow().value {
            NodeValue::Text(s) => s.trim_start().starts_with("Explanation:"),
            _ => false,
        })
}

fn strip_explanation_label<'a>(n: &'a AstNode<'a>) {
    if let Some(t) = n.first_child() {
        let mut data = t.data.borrow_mut();
        if let NodeValue::Text(s) = &mut data.value {
            let rest = s
                .trim_start()
                .trim_start_matches("Explanation:")
                .trim_start()
                .to_string();
            *s = rest.into();
        }
    }
}

/// Render some nodes (moved out of their tree) as one sanitised fragment.
fn fragment<'a>(arena: &'a Arena<'a>, nodes: Vec<&'a AstNode<'a>>) -> String {
    let doc = arena.alloc(NodeValue::Document.into());
    for n in nodes {
        doc.append(n);
    }
    sanitize(&to_html(doc, &options()))
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static CLEAN: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_tags(["aside", "input"])
            .add_tag_attributes("aside", ["role"])
            .add_tag_attributes("div", ["data-question-id"])
            .add_tag_attributes("input", ["checked", "disabled"])
            .add_tag_attribute_values("input", "type", &["checkbox"])
            .add_tag_attributes("th", ["align"])
            .add_tag_attributes("td", ["align"])
            .add_allowed_classes(
                "aside",
                ["callout", "note", "warning", "checklist", "scenario"],
            )
            .add_allowed_classes("p", ["callout-title", "scenario-title"])
            .add_allowed_classes("div", ["question"])
            .url_schemes(
                ["https", "http", "mailto", "lesson", "asset"]
                    .into_iter()
                    .collect(),
            )
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true)
            .attribute_filter(|element, attribute, value| {
                // Images come only from the package; nothing is fetched.
                if element == "img" && attribute == "src" && !value.starts_with("asset:") {
                    return None;
                }
                Some(value.into())
            });
        for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
            b.add_tag_attributes(h, ["id"]);
        }
        b
    })
}

/// Sanitise rendered HTML: no script, no event handlers, no style, no
/// remote resources.
pub(crate) fn sanitize(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_stable_and_unique() {
        assert_eq!(slug("Who does what?"), "who-does-what");
        assert_eq!(slug("Qui fait quoi ?"), "qui-fait-quoi");
        assert_eq!(slug("Don't panic"), "dont-panic");
        assert_eq!(slug("Préparation aux crises"), "préparation-aux-crises");
        assert_eq!(slug("???"), "section");
        let mut used = HashSet::new();
        assert_eq!(unique_slug("Summary", &mut used), "summary");
        assert_eq!(unique_slug("Summary", &mut used), "summary-2");
        assert_eq!(unique_slug("Summary", &mut used), "summary-3");
    }

    #[test]
    fn sanitizer_removes_active_content() {
        let dirty = r#"<p onclick="x()">a<script>alert(1)</script></p><img src="https://evil/x.png"><img src="asset:a.svg" alt="A"><a href="javascript:alert(1)">j</a><div style="background:url(x)">s</div>"#;
        let clean = sanitize(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("evil"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("style"), "{clean}");
        assert!(clean.contains(r#"src="asset:a.svg""#), "{clean}");
    }
}
