//! Loading a course from its source tree: every file read, every problem
//! reported, and the package content assembled from what could be read.

use crate::diag::{Diagnostics, Pos, SourceFile};
use crate::manifest::{self, is_language_code, CourseToml};
use crate::markdown::{self, Body, BodyCtx, BodyKind, Question, Targets};
use crate::tomlx::{Fields, TomlSource};
use crate::tree::{self, Tree};
use crate::SourceCourse;
use outpost_model::{
    AssessmentInfo, CourseStructure, LessonInfo, LessonKind, ModuleInfo, MoveOn, OptionKey,
    QuestionKey,
};
use outpost_package::{Asset, LessonText, Manifest, ModuleText, PackageContent, QuestionText};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Why `id` is not a valid id, if it is not.
pub(crate) fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() || id.len() > 64 {
        return Some("an id has 1 to 64 characters");
    }
    if !id.as_bytes()[0].is_ascii_lowercase() {
        return Some("an id starts with a lowercase letter");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Some("an id has only lowercase letters a-z, digits and `-`");
    }
    None
}

/// Every course in the tree: the root itself if it holds `course.toml`,
/// else each folder of the root that does.
pub(crate) fn load_tree(tree: &Tree) -> (Vec<SourceCourse>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut courses = Vec::new();
    let exists = |rel: &str| tree.files.contains_key(rel) || tree.skipped.contains(rel);
    let dirs: Vec<String> = if exists("course.toml") {
        vec![String::new()]
    } else {
        let (dirs, _) = tree.children("");
        dirs.into_iter()
            .filter(|d| {
                let has = exists(&tree::join(d, "course.toml"));
                if !has {
                    diags.warning(
                        &tree.shown(d),
                        Pos::START,
                        "no course.toml in this folder; it is not a course and is skipped",
                    );
                }
                has
            })
            .collect()
    };
    let mut ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    for d in dirs {
        let course = load_course(tree, &d, &mut diags);
        if let Some((c, pos)) = course {
            let toml_path = tree.shown(&tree::join(&d, "course.toml"));
            if let Some(first) = ids.get(&c.content.manifest.id) {
                diags.error(
                    &toml_path,
                    pos,
                    format!(
                        "course id `{}` is also used by {}",
                        c.content.manifest.id,
                        first.display()
                    ),
                );
            } else {
                ids.insert(c.content.manifest.id.clone(), toml_path);
            }
            courses.push(c);
        }
    }
    diags.sort();
    (courses, diags)
}

/// A text file of the tree, or an error if it is not UTF-8.
fn text_file(tree: &Tree, rel: &str, diags: &mut Diagnostics) -> Option<SourceFile> {
    // A file that was too big or unreadable has had its error already.
    let bytes = tree.files.get(rel)?;
    let path = tree.shown(rel);
    match std::str::from_utf8(bytes) {
        Ok(t) => {
            let t = t.strip_prefix('\u{feff}').unwrap_or(t);
            Some(SourceFile::new(path, t.to_string()))
        }
        Err(e) => {
            let f = SourceFile::new(
                path.clone(),
                String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
            );
            diags.error(
                &path,
                f.pos(e.valid_up_to()),
                "not valid UTF-8 text: save the file as UTF-8",
            );
            None
        }
    }
}

/// A Markdown file split at its front matter.
struct MdFile {
    rel: String,
    file: SourceFile,
    /// Byte range of the TOML between the `+++` lines.
    toml: std::ops::Range<usize>,
    /// Lines before the body.
    lines_before: usize,
    body_at: usize,
}

impl MdFile {
    fn body(&self) -> &str {
        self.file.text.get(self.body_at..).unwrap_or("")
    }
    fn toml_text(&self) -> &str {
        self.file.text.get(self.toml.clone()).unwrap_or("")
    }
    fn toml_source(&self) -> TomlSource<'_> {
        TomlSource {
            file: &self.file,
            base: self.toml.start,
            what: "front matter",
            bad_lines: Default::default(),
        }
    }
    /// Where the front matter's content begins (for missing keys).
    fn front_pos(&self) -> Pos {
        Pos::START
    }
}

fn md_file(tree: &Tree, rel: &str, diags: &mut Diagnostics) -> Option<MdFile> {
    let file = text_file(tree, rel, diags)?;
    let is_fence = |l: &str| l.trim_end() == "+++";
    if !is_fence(file.line(1)) {
        diags.error(
            &file.path,
            Pos::START,
            "missing front matter: the file must start with a `+++` line, then TOML (id, title, …), then `+++`",
        );
        return None;
    }
    let lines = file.text.lines().count();
    let close = (2..=lines).find(|&l| is_fence(file.line(l)));
    let Some(close) = close else {
        diags.error(
            &file.path,
            Pos::START,
            "front matter is not closed: add a `+++` line after it",
        );
        return None;
    };
    let toml = file.line_start(2)..file.line_start(close);
    let body_at = file.line_start(close + 1);
    Some(MdFile {
        rel: rel.to_string(),
        toml,
        lines_before: close,
        body_at,
        file,
    })
}

struct ModuleFront {
    id: Option<(String, Pos)>,
    title: String,
    objectives: Vec<String>,
}

struct LessonFront {
    id: Option<(String, Pos)>,
    title: String,
    minutes: Option<(u32, Pos)>,
    kind: LessonKind,
}

fn checked_id(f: &mut Fields<'_, '_>, what: &str, d: &mut Diagnostics) -> Option<(String, Pos)> {
    let (id, pos) = f.string("id", true, d)?;
    if let Some(p) = id_problem(&id) {
        f.error_at(pos, format!("{what} id `{id}`: {p}"), d);
        return None;
    }
    Some((id, pos))
}

fn non_empty(f: &mut Fields<'_, '_>, key: &'static str, d: &mut Diagnostics) -> String {
    match f.string(key, true, d) {
        Some((s, pos)) if s.trim().is_empty() => {
            f.error_at(pos, format!("`{key}` is empty"), d);
            s
        }
        Some((s, _)) => s,
        None => String::new(),
    }
}

fn module_front(md: &MdFile, d: &mut Diagnostics) -> ModuleFront {
    let src = md.toml_source();
    let table = src.parse(md.toml_text(), d);
    let mut f = Fields::new(&src, &table, md.front_pos(), "");
    let id = checked_id(&mut f, "module", d);
    let title = non_empty(&mut f, "title", d);
    let objectives = f
        .strings("objectives", false, d)
        .map(|(v, _)| {
            v.into_iter()
                .filter_map(|(s, pos)| {
                    if s.trim().is_empty() {
                        d.error(&md.file.path, pos, "an objective is empty");
                        None
                    } else {
                        Some(s)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    f.finish(d);
    ModuleFront {
        id,
        title,
        objectives,
    }
}

fn lesson_front(md: &MdFile, d: &mut Diagnostics) -> LessonFront {
    let src = md.toml_source();
    let table = src.parse(md.toml_text(), d);
    let mut f = Fields::new(&src, &table, md.front_pos(), "");
    let id = checked_id(&mut f, "lesson", d);
    let title = non_empty(&mut f, "title", d);
    let minutes = match f.integer("minutes", true, d) {
        Some((n, pos)) if !(1..=600).contains(&n) => {
            f.error_at(
                pos,
                format!("`minutes` = {n} is out of range (1 to 600)"),
                d,
            );
            None
        }
        Some((n, pos)) => Some((n as u32, pos)),
        None => None,
    };
    let kind = match f.string("kind", false, d) {
        None => LessonKind::Lesson,
        Some((k, _)) if k == "lesson" => LessonKind::Lesson,
        Some((k, _)) if k == "quiz" => LessonKind::Quiz,
        Some((k, pos)) => {
            f.error_at(pos, format!("kind `{k}`: use \"lesson\" or \"quiz\""), d);
            LessonKind::Lesson
        }
    };
    f.finish(d);
    LessonFront {
        id,
        title,
        minutes,
        kind,
    }
}

fn bank_front(md: &MdFile, d: &mut Diagnostics) {
    let src = md.toml_source();
    let table = src.parse(md.toml_text(), d);
    let mut f = Fields::new(&src, &table, md.front_pos(), "");
    let _topic = f.string("topic", false, d);
    f.finish(d);
}

struct ModuleSrc {
    md: MdFile,
    front: ModuleFront,
    lessons: Vec<(MdFile, LessonFront)>,
}

struct LangSrc {
    lang: String,
    modules: Vec<ModuleSrc>,
    bank: Vec<MdFile>,
    /// Whether the language has an `assessment/` folder.
    has_bank_dir: bool,
    /// Markdown files whose front matter or id could not be read.
    unreadable: Vec<String>,
}

struct LessonData {
    id: String,
    pos: Pos,
    path: PathBuf,
    title: String,
    minutes: Option<(u32, Pos)>,
    kind: LessonKind,
    body: Body,
    body_pos: Pos,
}

struct ModuleData {
    id: String,
    pos: Pos,
    path: PathBuf,
    title: String,
    objectives: Vec<String>,
    intro_html: String,
    lessons: Vec<LessonData>,
}

struct LangData {
    lang: String,
    modules: Vec<ModuleData>,
    bank: Vec<(PathBuf, Question)>,
    assets: BTreeSet<String>,
    /// Some file could not be read: what it holds is unknown, so it is not
    /// reported as missing from this language.
    incomplete: bool,
}

/// Read one language folder: module folders in name order, each with its
/// `module.md` and lessons, and `assessment/`.
fn read_language(tree: &Tree, cdir: &str, lang: &str, d: &mut Diagnostics) -> LangSrc {
    let ldir = tree::join(cdir, lang);
    let (dirs, files) = tree.children(&ldir);
    for f in files {
        d.warning(
            &tree.shown(&f),
            Pos::START,
            "ignored: a language folder holds module folders and assessment/",
        );
    }
    let mut modules = Vec::new();
    let mut bank = Vec::new();
    let mut has_bank_dir = false;
    let mut unreadable = Vec::new();
    for mdir in dirs {
        let (sub, files) = tree.children(&mdir);
        for s in sub {
            d.warning(
                &tree.shown(&s),
                Pos::START,
                "ignored: folders inside a module are not read",
            );
        }
        if tree::name(&mdir) == "assessment" {
            has_bank_dir = true;
            for f in files {
                if !f.ends_with(".md") {
                    d.warning(
                        &tree.shown(&f),
                        Pos::START,
                        "ignored: not a Markdown (.md) file",
                    );
                    continue;
                }
                match md_file(tree, &f, d) {
                    Some(md) => {
                        bank_front(&md, d);
                        bank.push(md);
                    }
                    None => unreadable.push(f),
                }
            }
            continue;
        }
        let module_md = tree::join(&mdir, "module.md");
        if !tree.files.contains_key(&module_md) {
            d.error(
                &tree.shown(&mdir),
                Pos::START,
                "module folder has no module.md (id, title and objectives of the module)",
            );
            continue;
        }
        let Some(md) = md_file(tree, &module_md, d) else {
            unreadable.push(module_md);
            continue;
        };
        let front = module_front(&md, d);
        if front.id.is_none() {
            unreadable.push(module_md.clone());
        }
        let mut lessons = Vec::new();
        for f in files {
            if f == module_md {
                continue;
            }
            if !f.ends_with(".md") {
                d.warning(
                    &tree.shown(&f),
                    Pos::START,
                    "ignored: not a Markdown (.md) file",
                );
                continue;
            }
            match md_file(tree, &f, d) {
                Some(lmd) => {
                    let lf = lesson_front(&lmd, d);
                    if lf.id.is_none() {
                        unreadable.push(f);
                    }
                    lessons.push((lmd, lf));
                }
                None => unreadable.push(f),
            }
        }
        modules.push(ModuleSrc { md, front, lessons });
    }
    LangSrc {
        lang: lang.to_string(),
        modules,
        bank,
        has_bank_dir,
        unreadable,
    }
}

/// Load one course folder. Returns the course (even with errors, as far as
/// it could be read) and the position of its id in course.toml.
fn load_course(tree: &Tree, cdir: &str, d: &mut Diagnostics) -> Option<(SourceCourse, Pos)> {
    let toml_rel = tree::join(cdir, "course.toml");
    let toml_file = text_file(tree, &toml_rel, d)?;
    let ct = manifest::read(&toml_file, d);
    let toml_path = toml_file.path.clone();

    // Languages: as listed, or (when that list is unusable) the folders
    // that look like languages, so the lessons still get checked.
    let (sub_dirs, _) = tree.children(cdir);
    let listed: Vec<String> = match &ct.languages {
        Some((ls, _)) => ls.iter().map(|(l, _)| l.clone()).collect(),
        None => sub_dirs
            .iter()
            .map(|s| tree::name(s).to_string())
            .filter(|n| is_language_code(n))
            .collect(),
    };
    let mut langs: Vec<String> = Vec::new();
    for l in &listed {
        if langs.contains(l) {
            continue;
        }
        if tree.is_dir(&tree::join(cdir, l)) {
            langs.push(l.clone());
        } else if let Some((ls, _)) = &ct.languages {
            let pos = ls
                .iter()
                .find(|(x, _)| x == l)
                .map_or(Pos::START, |(_, p)| *p);
            d.error(
                &toml_path,
                pos,
                format!("language `{l}` has no folder `{l}/` in the course"),
            );
        }
    }
    for s in &sub_dirs {
        let n = tree::name(s);
        if n == "assets" || listed.iter().any(|l| l == n) {
            continue;
        }
        let msg = if is_language_code(n) {
            format!("folder `{n}/` is not listed in `languages`; it is ignored")
        } else {
            format!("folder `{n}/` is ignored: a course holds course.toml, assets/ and one folder per language")
        };
        d.warning(&tree.shown(s), Pos::START, msg);
    }
    let assets_dir = tree::join(cdir, "assets");

    // Pass 1: front matter of every file, and each lesson's anchors, so
    // that links can be checked in pass 2 whatever their direction.
    let sources: Vec<LangSrc> = langs
        .iter()
        .map(|l| read_language(tree, cdir, l, d))
        .collect();
    let mut lesson_targets = BTreeMap::new();
    let mut unreadable: BTreeSet<String> = sources
        .iter()
        .flat_map(|l| l.unreadable.iter().cloned())
        .collect();
    for ls in &sources {
        for m in &ls.modules {
            for (md, lf) in &m.lessons {
                if let Some((id, _)) = &lf.id {
                    match markdown::anchors(md.body()) {
                        Some(a) => {
                            lesson_targets.insert(md.rel.clone(), (id.clone(), a));
                        }
                        None => {
                            unreadable.insert(md.rel.clone());
                        }
                    }
                }
            }
        }
    }
    let targets = Targets {
        tree,
        unreadable: &unreadable,
        lessons: &lesson_targets,
        assets_dir: &assets_dir,
    };

    // Pass 2: render and check every body.
    let mut data: Vec<LangData> = Vec::new();
    for ls in &sources {
        let mut assets = BTreeSet::new();
        let mut incomplete = !ls.unreadable.is_empty();
        let render = |md: &MdFile, kind: BodyKind, d: &mut Diagnostics| {
            let ctx = BodyCtx {
                file: &md.file,
                rel: &md.rel,
                lines_before: md.lines_before,
                lang: &ls.lang,
                kind,
                targets: &targets,
            };
            markdown::render(&ctx, md.body(), d)
        };
        let mut modules = Vec::new();
        for m in &ls.modules {
            let intro = render(&m.md, BodyKind::ModuleIntro, d);
            incomplete |= intro.refused;
            assets.extend(intro.assets.iter().cloned());
            let mut lessons = Vec::new();
            for (md, lf) in &m.lessons {
                let body = render(md, BodyKind::Lesson, d);
                incomplete |= body.refused;
                assets.extend(body.assets.iter().cloned());
                let Some((id, pos)) = lf.id.clone() else {
                    continue;
                };
                lessons.push(LessonData {
                    id,
                    pos,
                    path: md.file.path.clone(),
                    title: lf.title.clone(),
                    minutes: lf.minutes,
                    kind: lf.kind,
                    body,
                    body_pos: Pos {
                        line: crate::diag::to_u32(md.lines_before + 1),
                        col: 1,
                    },
                });
            }
            let Some((id, pos)) = m.front.id.clone() else {
                continue;
            };
            modules.push(ModuleData {
                id,
                pos,
                path: m.md.file.path.clone(),
                title: m.front.title.clone(),
                objectives: m.front.objectives.clone(),
                intro_html: intro.html,
                lessons,
            });
        }
        let mut bank = Vec::new();
        for md in &ls.bank {
            let body = render(md, BodyKind::Bank, d);
            incomplete |= body.refused;
            assets.extend(body.assets.iter().cloned());
            bank.extend(
                body.questions
                    .into_iter()
                    .map(|q| (md.file.path.clone(), q)),
            );
        }
        match (&ct.assessment, ls.has_bank_dir) {
            (None, true) => {
                let at = ls
                    .bank
                    .first()
                    .map_or_else(|| tree.shown(&tree::join(cdir, &format!("{}/assessment", ls.lang))), |m| m.file.path.clone());
                d.error(
                    &at,
                    Pos::START,
                    "a question bank in assessment/ but course.toml has no [assessment] table",
                );
            }
            (Some(_), false) => d.error(
                &toml_path,
                ct.assessment.as_ref().map_or(Pos::START, |a| a.at),
                format!("[assessment] needs a question bank: add the folder `{}/assessment/` with question files", ls.lang),
            ),
            _ => {}
        }
        data.push(LangData {
            lang: ls.lang.clone(),
            modules,
            bank,
            assets,
            incomplete,
        });
    }

    check_ids(&ct, &toml_path, &data, d);
    for ld in &data {
        check_language(ld, d);
    }
    let reference = ct
        .default_language
        .as_ref()
        .and_then(|(l, _)| data.iter().position(|x| &x.lang == l))
        .unwrap_or(0);
    compare_languages(&data, reference, d);
    if let (Some(a), Some(r)) = (&ct.assessment, data.get(reference)) {
        if let Some((draw, pos)) = a.draw {
            if (r.bank.len() as u64) < u64::from(draw) {
                d.error(
                    &toml_path,
                    pos,
                    format!(
                        "the question bank ({}/assessment/) has {} question{} but draw = {draw}: add questions or draw fewer",
                        r.lang,
                        r.bank.len(),
                        if r.bank.len() == 1 { "" } else { "s" }
                    ),
                );
            }
        }
    }
    let used: BTreeSet<String> = data.iter().flat_map(|l| l.assets.iter().cloned()).collect();
    let assets = read_assets(tree, &assets_dir, &used, d);

    let content = assemble(&ct, &data, reference, assets);
    let id_pos = ct.id.as_ref().map_or(Pos::START, |(_, p)| *p);
    if let Some((id, pos)) = &ct.id {
        let folder = tree::name(cdir);
        if !cdir.is_empty() && folder != id {
            d.warning(
                &toml_path,
                *pos,
                format!("the course folder is `{folder}/` but the course id is `{id}`; name the folder after the id"),
            );
        }
    }
    Some((
        SourceCourse {
            dir: tree.shown(cdir),
            content,
        },
        id_pos,
    ))
}

/// One namespace for the course, module, lesson, question and assessment
/// ids of a course (the learner core resolves any id without knowing its
/// kind), checked in each language.
fn check_ids(ct: &CourseToml, toml_path: &std::path::Path, data: &[LangData], d: &mut Diagnostics) {
    for ld in data {
        let mut all: Vec<(&str, &'static str, PathBuf, Pos)> = Vec::new();
        if let Some((id, pos)) = &ct.id {
            all.push((id, "course", toml_path.to_path_buf(), *pos));
        }
        if let Some(a) = &ct.assessment {
            if let Some((id, pos)) = &a.id {
                all.push((id, "assessment", toml_path.to_path_buf(), *pos));
            }
        }
        for m in &ld.modules {
            all.push((&m.id, "module", m.path.clone(), m.pos));
            for l in &m.lessons {
                all.push((&l.id, "lesson", l.path.clone(), l.pos));
                for q in &l.body.questions {
                    all.push((&q.id, "question", l.path.clone(), q.pos));
                }
            }
        }
        for (p, q) in &ld.bank {
            all.push((&q.id, "question", p.clone(), q.pos));
        }
        let mut seen: BTreeMap<&str, (&str, PathBuf, Pos)> = BTreeMap::new();
        for (id, what, path, pos) in all {
            match seen.get(id) {
                Some((w, p, at)) => d.error(
                    &path,
                    pos,
                    format!(
                        "duplicate id `{id}`: already the id of a {w} at {}:{}:{}",
                        p.display(),
                        at.line,
                        at.col
                    ),
                ),
                None => {
                    seen.insert(id, (what, path, pos));
                }
            }
        }
    }
}

fn check_language(ld: &LangData, d: &mut Diagnostics) {
    for m in &ld.modules {
        if m.lessons.is_empty() {
            d.error(&m.path, m.pos, format!("module `{}` has no lessons", m.id));
        }
        for l in &m.lessons {
            match l.kind {
                LessonKind::Quiz if l.body.questions.is_empty() => d.error(
                    &l.path,
                    l.pos,
                    format!("quiz `{}` has no questions: add `:::question` blocks", l.id),
                ),
                LessonKind::Lesson if l.body.headings.is_empty() && !l.body.refused => d.warning(
                    &l.path,
                    l.body_pos,
                    "lesson has no heading: start sections with `##` so learners can find their way",
                ),
                _ => {}
            }
        }
    }
}

/// Values by language, each with its position; and the table's.
type PerLanguage = (BTreeMap<String, (String, Pos)>, Pos);

type Item<'a> = (&'a str, &'a std::path::Path, Pos);

/// Report ids that one language has and another lacks, and a different
/// order where the sets agree. `what` names the kind of item.
fn compare_sets(
    what: &str,
    context: &str,
    langs: &[(&str, bool, Vec<Item<'_>>)],
    ordered: bool,
    d: &mut Diagnostics,
) {
    let Some((ref_lang, _, ref_items)) = langs.first() else {
        return;
    };
    for (lang, incomplete, items) in langs {
        if *incomplete {
            continue;
        }
        for (other_lang, _, other) in langs {
            if lang == other_lang {
                continue;
            }
            for (id, path, pos) in other {
                if !items.iter().any(|(x, ..)| x == id) {
                    d.error(
                        path,
                        *pos,
                        format!("{what} `{id}`{context} is missing in language {lang}: every language has the same {what}s"),
                    );
                }
            }
        }
        if ordered && lang != ref_lang {
            let mine: Vec<&str> = items
                .iter()
                .map(|(i, ..)| *i)
                .filter(|i| ref_items.iter().any(|(r, ..)| r == i))
                .collect();
            let theirs: Vec<&str> = ref_items
                .iter()
                .map(|(i, ..)| *i)
                .filter(|i| mine.contains(i))
                .collect();
            if let Some(k) = (0..mine.len()).find(|&k| mine[k] != theirs[k]) {
                if let Some((_, path, pos)) = items.iter().find(|(i, ..)| *i == mine[k]) {
                    d.error(
                        path,
                        *pos,
                        format!("{what}s{context} are in a different order than in {ref_lang}: `{}` comes here where {ref_lang} has `{}`", mine[k], theirs[k]),
                    );
                }
            }
        }
    }
}

/// The structure must be the same in every language: same modules,
/// lessons and questions, in the same order, with the same answer keys.
fn compare_languages(data: &[LangData], reference: usize, d: &mut Diagnostics) {
    if data.len() < 2 {
        return;
    }
    let mut order: Vec<&LangData> = vec![&data[reference]];
    order.extend(
        data.iter()
            .enumerate()
            .filter(|(i, _)| *i != reference)
            .map(|(_, l)| l),
    );
    let r = order[0];

    let modules: Vec<_> = order
        .iter()
        .map(|l| {
            (
                l.lang.as_str(),
                l.incomplete,
                l.modules
                    .iter()
                    .map(|m| (m.id.as_str(), m.path.as_path(), m.pos))
                    .collect(),
            )
        })
        .collect();
    compare_sets("module", "", &modules, true, d);

    for rm in &r.modules {
        let per: Vec<(&str, bool, &ModuleData)> = order
            .iter()
            .filter_map(|l| {
                l.modules
                    .iter()
                    .find(|m| m.id == rm.id)
                    .map(|m| (l.lang.as_str(), l.incomplete, m))
            })
            .collect();
        let lessons: Vec<_> = per
            .iter()
            .map(|(lang, incomplete, m)| {
                (
                    *lang,
                    *incomplete,
                    m.lessons
                        .iter()
                        .map(|l| (l.id.as_str(), l.path.as_path(), l.pos))
                        .collect(),
                )
            })
            .collect();
        compare_sets(
            "lesson",
            &format!(" (module `{}`)", rm.id),
            &lessons,
            true,
            d,
        );
        for rl in &rm.lessons {
            let per_lesson: Vec<(&str, bool, &LessonData)> = per
                .iter()
                .filter_map(|(lang, incomplete, m)| {
                    m.lessons
                        .iter()
                        .find(|l| l.id == rl.id)
                        .map(|l| (*lang, *incomplete, l))
                })
                .collect();
            for (lang, _, l) in per_lesson.iter().skip(1) {
                if let (Some((n, pos)), Some((rn, _))) = (l.minutes, rl.minutes) {
                    if n != rn {
                        d.error(
                            &l.path,
                            pos,
                            format!("lesson `{}` has minutes = {n} in {lang} but {rn} in {}: the structure is the same in every language", l.id, r.lang),
                        );
                    }
                }
                if l.kind != rl.kind {
                    d.error(
                        &l.path,
                        l.pos,
                        format!(
                            "lesson `{}` is a {} in {lang} but a {} in {}",
                            l.id,
                            kind_name(l.kind),
                            kind_name(rl.kind),
                            r.lang
                        ),
                    );
                }
            }
            let questions: Vec<_> = per_lesson
                .iter()
                .map(|(lang, incomplete, l)| {
                    (
                        *lang,
                        *incomplete,
                        l.body
                            .questions
                            .iter()
                            .map(|q| (q.id.as_str(), l.path.as_path(), q.pos))
                            .collect(),
                    )
                })
                .collect();
            compare_sets(
                "question",
                &format!(" (lesson `{}`)", rl.id),
                &questions,
                true,
                d,
            );
        }
    }
    let bank: Vec<_> = order
        .iter()
        .map(|l| {
            (
                l.lang.as_str(),
                l.incomplete,
                l.bank
                    .iter()
                    .map(|(p, q)| (q.id.as_str(), p.as_path(), q.pos))
                    .collect(),
            )
        })
        .collect();
    compare_sets("question", " (assessment bank)", &bank, false, d);

    // Answer keys.
    let keys = |l: &LangData| -> BTreeMap<String, (QuestionKey, PathBuf, Pos)> {
        let mut out = BTreeMap::new();
        for m in &l.modules {
            for ls in &m.lessons {
                for q in ls.body.questions.iter().filter(|q| q.valid) {
                    out.insert(q.id.clone(), (key_of(q), ls.path.clone(), q.pos));
                }
            }
        }
        for (p, q) in l.bank.iter().filter(|(_, q)| q.valid) {
            out.insert(q.id.clone(), (key_of(q), p.clone(), q.pos));
        }
        out
    };
    let rk = keys(r);
    for l in order.iter().skip(1) {
        for (id, (k, path, pos)) in keys(l) {
            if let Some((rk, ..)) = rk.get(&id) {
                if rk != &k {
                    d.error(
                        &path,
                        pos,
                        format!(
                            "question `{id}` differs from {}: {}",
                            r.lang,
                            key_difference(rk, &k)
                        ),
                    );
                }
            }
        }
    }
}

fn kind_name(k: LessonKind) -> &'static str {
    match k {
        LessonKind::Lesson => "lesson",
        LessonKind::Quiz => "quiz",
    }
}

fn key_difference(a: &QuestionKey, b: &QuestionKey) -> String {
    if a.question_type != b.question_type {
        format!(
            "type {} here, {} there",
            b.question_type.as_str(),
            a.question_type.as_str()
        )
    } else if a.options.len() != b.options.len() {
        format!(
            "{} options here, {} there",
            b.options.len(),
            a.options.len()
        )
    } else {
        format!(
            "correct option(s) {} here, {} there; the answer key is the same in every language",
            b.correct_ids().join("+"),
            a.correct_ids().join("+")
        )
    }
}

pub(crate) fn key_of(q: &Question) -> QuestionKey {
    QuestionKey {
        id: q.id.clone(),
        question_type: q.question_type,
        options: q
            .options
            .iter()
            .zip(&q.correct)
            .map(|(o, c)| OptionKey {
                id: o.id.clone(),
                correct: *c,
            })
            .collect(),
    }
}

/// Why an SVG cannot be shown safely, if it cannot.
fn svg_problem(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    if t.contains("<script") {
        return Some("it contains a script");
    }
    if t.contains("<foreignobject") {
        return Some("it contains foreignObject (embedded HTML)");
    }
    if t.contains("javascript:") {
        return Some("it contains a javascript: link");
    }
    let b = t.as_bytes();
    for (i, _) in t.match_indices(" on") {
        let name: String = t[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let after = t[i + 3 + name.len()..].trim_start();
        if !name.is_empty() && after.starts_with('=') && b.get(i).is_some() {
            return Some("it has an event handler attribute (on…=)");
        }
    }
    for pat in [
        "href=\"http",
        "href='http",
        "url(http",
        "href=\"//",
        "href='//",
        "@import",
    ] {
        if t.contains(pat) {
            return Some("it loads another file from the network");
        }
    }
    None
}

fn read_assets(
    tree: &Tree,
    assets_dir: &str,
    used: &BTreeSet<String>,
    d: &mut Diagnostics,
) -> Vec<Asset> {
    let prefix = format!("{assets_dir}/");
    let mut out = Vec::new();
    for (rel, bytes) in tree.files.range(prefix.clone()..) {
        let Some(name) = rel.strip_prefix(&prefix) else {
            break;
        };
        let path = tree.shown(rel);
        let Some(media_type) = outpost_package::media_type(name) else {
            d.warning(
                &path,
                Pos::START,
                "not an image (svg, png, jpg, webp, gif); it is left out of the package",
            );
            continue;
        };
        if !used.contains(name) {
            d.warning(
                &path,
                Pos::START,
                "asset is not used by any lesson; it is left out of the package",
            );
            continue;
        }
        if media_type == "image/svg+xml" {
            match std::str::from_utf8(bytes) {
                Ok(t) => {
                    if let Some(p) = svg_problem(t) {
                        d.error(&path, Pos::START, format!("SVG image cannot be used: {p}"));
                        continue;
                    }
                }
                Err(_) => {
                    d.error(&path, Pos::START, "SVG image is not valid UTF-8 text");
                    continue;
                }
            }
        }
        out.push(Asset {
            name: name.to_string(),
            media_type: media_type.to_string(),
            bytes: bytes.clone(),
        });
    }
    out
}

fn assemble(
    ct: &CourseToml,
    data: &[LangData],
    reference: usize,
    assets: Vec<Asset>,
) -> PackageContent {
    let id = ct.id.as_ref().map_or_else(String::new, |(i, _)| i.clone());
    let version = ct.version.clone().unwrap_or_default();
    let move_on = ct.move_on.map_or(MoveOn::Completed, |(m, _)| m);
    let languages: Vec<String> = data.iter().map(|l| l.lang.clone()).collect();
    let default_language = ct
        .default_language
        .as_ref()
        .map(|(l, _)| l.clone())
        .or_else(|| languages.first().cloned())
        .unwrap_or_default();
    let r = data.get(reference);
    let mut questions = BTreeMap::new();
    let mut modules_info = Vec::new();
    if let Some(r) = r {
        for m in &r.modules {
            modules_info.push(ModuleInfo {
                id: m.id.clone(),
                lessons: m
                    .lessons
                    .iter()
                    .map(|l| LessonInfo {
                        id: l.id.clone(),
                        kind: l.kind,
                        minutes: l.minutes.map_or(0, |(n, _)| n),
                        questions: l.body.questions.iter().map(|q| q.id.clone()).collect(),
                    })
                    .collect(),
            });
            for l in &m.lessons {
                for q in &l.body.questions {
                    questions.entry(q.id.clone()).or_insert_with(|| key_of(q));
                }
            }
        }
        for (_, q) in &r.bank {
            questions.entry(q.id.clone()).or_insert_with(|| key_of(q));
        }
    }
    let assessment = ct.assessment.as_ref().map(|a| AssessmentInfo {
        id: a.id.as_ref().map_or_else(String::new, |(i, _)| i.clone()),
        draw: a.draw.map_or(0, |(n, _)| n),
        minutes: a.minutes,
        bank: r
            .map(|r| r.bank.iter().map(|(_, q)| q.id.clone()).collect())
            .unwrap_or_default(),
    });
    let mut modules = Vec::new();
    let mut lessons = Vec::new();
    let mut qtexts = Vec::new();
    for l in data {
        for m in &l.modules {
            modules.push(ModuleText {
                module_id: m.id.clone(),
                lang: l.lang.clone(),
                title: m.title.clone(),
                objectives: m.objectives.clone(),
                intro_html: m.intro_html.clone(),
            });
            for ls in &m.lessons {
                lessons.push(LessonText {
                    lesson_id: ls.id.clone(),
                    module_id: m.id.clone(),
                    lang: l.lang.clone(),
                    title: ls.title.clone(),
                    html: ls.body.html.clone(),
                    text: ls.body.text.clone(),
                    headings: ls.body.headings.clone(),
                });
                for q in &ls.body.questions {
                    qtexts.push(question_text(q, &l.lang));
                }
            }
        }
        for (_, q) in &l.bank {
            qtexts.push(question_text(q, &l.lang));
        }
    }
    let per_lang = |m: &Option<PerLanguage>| -> BTreeMap<String, String> {
        m.as_ref()
            .map(|(t, _)| t.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    // The order a package reads back in, so that content round-trips.
    modules.sort_by(|a, b| (&a.module_id, &a.lang).cmp(&(&b.module_id, &b.lang)));
    lessons.sort_by(|a, b| (&a.lesson_id, &a.lang).cmp(&(&b.lesson_id, &b.lang)));
    qtexts.sort_by(|a, b| (&a.question_id, &a.lang).cmp(&(&b.question_id, &b.lang)));
    PackageContent {
        manifest: Manifest {
            id: id.clone(),
            version: version.clone(),
            title: per_lang(&ct.title),
            description: ct.description.clone(),
            languages,
            default_language,
            publisher: ct.publisher.clone(),
            move_on,
            passing_score: ct.passing_score,
            estimated_minutes: ct.estimated_minutes,
            assessment_title: ct
                .assessment
                .as_ref()
                .map(|a| a.title.clone())
                .unwrap_or_default(),
        },
        structure: CourseStructure {
            id,
            version,
            move_on,
            passing_score: ct.passing_score,
            estimated_minutes: ct.estimated_minutes,
            modules: modules_info,
            assessment,
            questions,
        },
        modules,
        lessons,
        questions: qtexts,
        assets,
    }
}

fn question_text(q: &Question, lang: &str) -> QuestionText {
    QuestionText {
        question_id: q.id.clone(),
        lang: lang.to_string(),
        stem_html: q.stem_html.clone(),
        options: q.options.clone(),
        explanation_html: q.explanation_html.clone(),
    }
}
