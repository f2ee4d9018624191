// Screens other than the lesson player: first run, profiles, catalog,
// course outline, progress, certificate, search, import, settings.

import { call, openFileDialog } from "./api.js";
import { h, clear, field, progressBar, sizeBars, snippetNodes, percent } from "./dom.js";
import { LANGUAGES, LANGUAGE_NAMES, languageNameInInterface, setLanguage, t, formatDate, formatDuration, language, content } from "./i18n.js";
import { state, go, setProfile, showError, hideError, announce, refreshSync } from "./app.js";
import { settingsSections } from "./sync.js";


function languageSelect(selected) {
  const sel = h("select", {});
  for (const l of LANGUAGES) {
    sel.append(h("option", { value: l, selected: l === selected }, LANGUAGE_NAMES[l]));
  }
  return sel;
}

// "" rather than null: it may go straight into Element.append.
export function fallbackNote(view) {
  if (!view || !view.fell_back) return "";
  return h("p", {
    class: "note-fallback",
    role: "note",
    text: t("contentFallback", { wanted: languageNameInInterface(language()), shown: languageNameInInterface(view.lang) }),
  });
}

// First run: the only thing to do is say who you are.
export async function welcome(main) {
  const name = h("input", { type: "text", autocomplete: "name", required: true, maxlength: 80 });
  const lang = languageSelect(language());
  const pin = h("input", { type: "password", inputmode: "numeric", autocomplete: "new-password", pattern: "[0-9]{4,12}", maxlength: 12 });
  const problem = h("p", { class: "form-error", role: "alert" });
  const title = h("h1", {});
  const intro = h("p", {});
  const nameField = field("", name);
  const langField = field("", lang);
  const pinField = field("", pin, " ");
  const submit = h("button", { type: "submit" });
  const others = state.hasProfiles ? h("a", { href: "#/profiles" }) : null;
  // Choosing a language shows the form in it at once. Only the words
  // change: the fields stay the very same elements, so what was typed, the
  // focus and the list being chosen from are untouched (rebuilding the form
  // under the select while it reports its change loses all three).
  const words = () => {
    title.textContent = t("welcomeTitle");
    intro.textContent = t("welcomeIntro");
    nameField.querySelector("label > span").textContent = t("profileName");
    langField.querySelector("label > span").textContent = t("profileLanguage");
    pinField.querySelector("label > span").textContent = t("profilePin");
    pinField.querySelector(".hint").textContent = t("profilePinHint");
    submit.textContent = t("createProfile");
    if (others) others.textContent = t("profilesTitle");
    problem.textContent = "";
  };
  lang.addEventListener("change", () => {
    setLanguage(lang.value);
    words();
  });
  const form = h("form", { novalidate: true }, nameField, langField, pinField, problem, h("div", { class: "actions" }, submit));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    problem.textContent = "";
    try {
      const profile = await call("profile_create", { name: name.value, language: lang.value, pin: pin.value || null });
      state.hasProfiles = true;
      setProfile(profile);
      go("#/catalog");
    } catch (e) {
      problem.textContent = e.message;
      name.focus();
    }
  });
  words();
  main.append(title, intro, form);
  if (others) main.append(h("p", {}, others));
}

// Several learners share one laptop: pick yourself, with your PIN if set.
export async function profiles(main) {
  const list = await call("profiles_list");
  main.append(h("h1", { text: t("profilesTitle") }));
  const ul = h("ul", { class: "card-grid", role: "list" });
  for (const p of list) {
    const li = h("li", { class: "card" }, h("h2", { text: p.name }), p.has_pin ? h("p", { class: "muted", text: t("protectedByPin") }) : null);
    const open = h("button", { type: "button" }, t("openProfile"));
    open.setAttribute("aria-label", `${t("openProfile")} ${p.name}`);
    open.addEventListener("click", () => (p.has_pin ? askPin(li, p) : openProfile(p, null, li)));
    li.append(h("div", { class: "actions" }, open));
    ul.append(li);
  }
  main.append(ul, h("p", {}, h("a", { class: "button secondary", href: "#/welcome" }, t("addProfile"))));
}

function askPin(card, p) {
  const pin = h("input", { type: "password", inputmode: "numeric", autocomplete: "current-password", maxlength: 12 });
  const form = h(
    "form",
    {},
    field(t("pinFor", { name: p.name }), pin),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("openProfile")), h("button", { type: "button", class: "secondary", onclick: () => profiles(clear(document.getElementById("main"))) }, t("cancel")))
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    openProfile(p, pin.value, form);
  });
  card.querySelector(".actions").replaceWith(form);
  pin.focus();
}

async function openProfile(p, pin, where) {
  try {
    const profile = await call("profile_open", { id: p.id, pin });
    setProfile(profile);
    go("#/catalog");
  } catch (e) {
    const msg = where.querySelector(".form-error");
    if (msg) msg.textContent = e.message;
    else showError(e);
  }
}

function stateLabel(c) {
  if (c.state === "satisfied") return t("stateCompleted");
  if (c.state === "in_progress") return t("stateInProgress");
  return t("stateNotStarted");
}

export function scorePercent(score) {
  // Whole percent rounded down, as the core computes it.
  return score && score.total ? Math.floor((score.correct * 100) / score.total) : 0;
}

export async function catalog(main) {
  const courses = await call("catalog");
  main.append(h("h1", { text: t("catalogTitle") }));
  if (state.info && state.info.startup_problem) {
    main.append(h("div", { class: "error-panel", role: "alert" }, h("p", { text: state.info.startup_problem })));
  }
  // Where to carry on: a course in progress with a lesson to resume.
  const resumable = courses.filter((c) => c.resume);
  const r = resumable.find((c) => c.state === "in_progress") || resumable[0];
  if (r) {
    main.append(
      h(
        "section",
        { class: "card continue", "aria-labelledby": "continue-title" },
        h("h2", { id: "continue-title", text: t("continueTitle") }),
        h("p", {}, h("a", { class: "button", href: `#/lesson/${encodeURIComponent(r.course_id)}/${encodeURIComponent(r.resume.lesson_id)}` }, t("continueLesson", { lesson: r.resume.title })), " ", h("span", { class: "muted", text: t("inCourse", { course: r.title }) }))
      )
    );
  }
  if (!courses.length) {
    main.append(h("p", {}, t("noCourses"), " ", h("a", { href: "#/import" }, t("navImport"))));
    return;
  }
  const list = h("ul", { class: "card-grid", role: "list" });
  for (const c of courses) {
    const p = percent(c.fraction_done);
    const href = `#/course/${encodeURIComponent(c.course_id)}`;
    list.append(
      h(
        "li",
        { class: "card" },
        h("h2", content(c.lang), h("a", { href }, c.title)),
        fallbackNote(c),
        c.description ? h("p", { text: c.description, ...content(c.lang) }) : null,
        progressBar(c.fraction_done, t("progressOf", { course: c.title })),
        h("p", {}, h("span", { class: `badge ${c.state}`, text: stateLabel(c) }), " · ", t("percentDone", { n: p }), " · ", t("estimated", { n: c.estimated_minutes })),
        h("div", { class: "actions" }, h("a", { class: "button secondary", href }, c.state === "not_started" ? t("startCourse") : t("openCourse")))
      )
    );
  }
  main.append(list);
  sizeBars(main);
}

function statusBadge(status) {
  const key = { done: "statusDone", in_progress: "statusInProgress" }[status] || "statusNotStarted";
  return h("span", { class: `badge ${status}`, text: t(key) });
}

export function moveOnInWords(rule, passingScore) {
  return t(`moveOn_${rule}`, { score: Math.round(passingScore * 100) });
}

function assessmentLine(a) {
  return a.attempts
    ? `${t("attempts", { n: a.attempts })} · ${t("bestScore", { p: scorePercent(a.best) })} · ${a.passed ? t("passed") : t("failed")}`
    : t("notTaken");
}

// The course's length: its lessons and the assessment.
function outlineMinutes(o) {
  let m = o.assessment ? o.assessment.minutes : 0;
  for (const mod of o.modules) for (const l of mod.lessons) m += l.minutes;
  return m;
}

export async function outline(main, courseId) {
  const o = await call("outline", { course: courseId });
  const cid = encodeURIComponent(o.course_id);
  main.append(
    h("h1", { text: o.title, ...content(o.lang) }),
    fallbackNote(o),
    progressBar(o.fraction_done, t("progressOf", { course: o.title })),
    h(
      "section",
      { class: "card", "aria-labelledby": "rule-title" },
      h("h2", { id: "rule-title", text: t("courseRule") }),
      h("p", { text: moveOnInWords(o.move_on, o.passing_score) }),
      h("p", { class: "muted", text: `${t("estimated", { n: outlineMinutes(o) })} · ${t("percentDone", { n: percent(o.fraction_done) })} · ${o.state === "satisfied" ? t("courseSatisfied") : t("courseNotSatisfied")}` })
    )
  );
  if (o.resume) {
    main.append(h("p", {}, h("a", { class: "button", href: `#/lesson/${cid}/${encodeURIComponent(o.resume.lesson_id)}` }, t("continueLesson", { lesson: o.resume.title }))));
  }
  main.append(h("h2", { text: t("modules") }));
  o.modules.forEach((m, i) => {
    const ol = h("ol", {});
    for (const l of m.lessons) {
      ol.append(
        h(
          "li",
          {},
          h("a", { href: `#/lesson/${cid}/${encodeURIComponent(l.id)}`, ...content(o.lang) }, l.title),
          l.kind === "quiz" ? [h("span", { class: "badge", text: t("quiz") }), " "] : null,
          statusBadge(l.status),
          " ",
          h("span", { class: "muted", text: t("minutesShort", { n: l.minutes }) }),
          l.quiz && l.quiz.attempts ? h("span", { class: "muted", text: ` · ${t("bestScore", { p: scorePercent(l.quiz.best) })}` }) : null
        )
      );
    }
    main.append(
      h(
        "section",
        { class: "card outline-module", "aria-labelledby": `module-${i}` },
        h("h3", { id: `module-${i}`, ...content(o.lang) }, `${i + 1}. ${m.title}`, m.completed ? [" ", h("span", { class: "badge done", text: t("moduleCompleted") })] : null),
        h("p", { class: "muted", text: t("lessonsDone", { d: m.lessons_done, t: m.lessons_total }) }),
        m.objectives && m.objectives.length ? [h("p", { class: "muted", text: t("objectives") }), h("ul", content(o.lang), m.objectives.map((x) => h("li", { text: x })))] : null,
        ol
      )
    );
  });
  if (o.assessment) {
    const a = o.assessment;
    main.append(
      h(
        "section",
        { class: "card", "aria-labelledby": "assessment-title" },
        h("h2", { id: "assessment-title", text: a.title || t("finalAssessment"), ...content(o.lang) }),
        h("p", { text: t("assessmentInfo", { n: a.questions, m: a.minutes }) }),
        h("p", { text: t("passMark", { score: Math.round(o.passing_score * 100) }) }),
        h("p", { text: assessmentLine(a) }),
        h("div", { class: "actions" }, h("a", { class: "button", href: `#/quiz/${cid}/${encodeURIComponent(a.id)}` }, t("takeAssessment")))
      )
    );
  }
  main.append(h("p", {}, h("a", { href: `#/progress/${cid}` }, t("viewProgress"))));
  sizeBars(main);
}

// Per course: lessons done, time, module quiz scores, the assessment, and
// the certificate once earned.
export async function progress(main, onlyCourse) {
  const courses = (await call("catalog")).filter((c) => !onlyCourse || c.course_id === onlyCourse);
  main.append(h("h1", { text: t("progressTitle") }));
  for (const c of courses) {
    const [o, p] = await Promise.all([call("outline", { course: c.course_id }), call("progress", { course: c.course_id })]);
    const done = o.modules.reduce((n, m) => n + m.lessons_done, 0);
    const total = o.modules.reduce((n, m) => n + m.lessons_total, 0);
    const headingId = `progress-${c.course_id}`;
    const sec = h(
      "section",
      { class: "card", "aria-labelledby": headingId },
      h("h2", { id: headingId, text: o.title, ...content(o.lang) }),
      progressBar(o.fraction_done, t("progressOf", { course: o.title })),
      h("p", { text: `${t("lessonsDone", { d: done, t: total })} · ${t("timeSpent", { t: formatDuration(p.seconds) })}` })
    );
    const table = h("table", { class: "summary-table" });
    table.append(h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("modules") }), h("th", { scope: "col", text: t("statusDone") }), h("th", { scope: "col", text: t("quiz") }), h("th", { scope: "col", text: t("timeSpent", { t: "" }).replace(/[:：]\s*$/, "") }))));
    const body = h("tbody");
    for (const m of o.modules) {
      const quizLesson = m.lessons.find((l) => l.kind === "quiz");
      const quizCell = !quizLesson ? "—" : quizLesson.quiz && quizLesson.quiz.attempts ? `${scorePercent(quizLesson.quiz.best)}%` : t("notTaken");
      const seconds = p.modules[m.id] ? p.modules[m.id].seconds : 0;
      body.append(
        h(
          "tr",
          {},
          h("th", { scope: "row", text: m.title, ...content(o.lang) }),
          h("td", {}, m.completed ? h("span", { class: "badge done", text: t("moduleCompleted") }) : t("lessonsDone", { d: m.lessons_done, t: m.lessons_total })),
          h("td", { text: quizCell }),
          h("td", { text: formatDuration(seconds) })
        )
      );
    }
    table.append(body);
    sec.append(table);
    if (o.assessment) sec.append(h("p", { text: `${o.assessment.title || t("finalAssessment")}: ${assessmentLine(o.assessment)}` }));
    const satisfied = o.state === "satisfied";
    sec.append(h("p", { class: `result ${satisfied ? "pass" : ""}`, text: satisfied ? t("courseSatisfied") : t("courseNotSatisfied") }));
    if (satisfied) sec.append(h("div", { class: "actions" }, h("a", { class: "button", href: `#/certificate/${encodeURIComponent(c.course_id)}` }, t("viewCertificate"))));
    main.append(sec);
  }
  sizeBars(main);
}

export async function certificate(main, courseId) {
  const c = await call("certificate", { course: courseId });
  main.append(h("h1", { class: "no-print", text: t("certificateTitle") }));
  if (!c) {
    main.append(h("p", { text: t("notEarned") }), h("p", {}, h("a", { href: `#/course/${encodeURIComponent(courseId)}` }, t("finishCourseFirst"))));
    return;
  }
  main.append(
    h(
      "article",
      { class: "certificate", "aria-labelledby": "cert-heading" },
      h("h2", { id: "cert-heading", text: t("certificateTitle") }),
      h("p", { text: t("certIntro") }),
      h("p", { class: "learner", text: c.learner_name }),
      h("p", { text: t("certCompleted") }),
      h("p", { class: "course", text: c.course_title, ...content(c.lang) }),
      h(
        "dl",
        {},
        h("dt", { text: t("certVersion") }),
        h("dd", { text: c.course_version }),
        h("dt", { text: t("certDate") }),
        h("dd", { text: formatDate(c.satisfied_at) }),
        c.best_score ? [h("dt", { text: t("certScore") }), h("dd", { text: `${scorePercent(c.best_score)}%` })] : null,
        h("dt", { text: t("certCode") }),
        h("dd", { class: "code", text: c.verification_code })
      ),
      h("p", { class: `cert-state ${c.verified ? "verified" : "pending"}`, text: c.verified ? t("certVerified") : t("certPending") })
    ),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => window.print() }, t("print")))
  );
}

export async function search(main, query) {
  const input = h("input", { type: "search", value: query, autocomplete: "off", maxlength: 200 });
  const form = h("form", { class: "search-form", role: "search" }, field(t("searchLabel"), input, t("searchHint")), h("button", { type: "submit" }, t("searchButton")));
  const results = h("section", { "aria-live": "polite", "aria-labelledby": "results-title" });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    go(`#/search?q=${encodeURIComponent(input.value)}`);
  });
  main.append(h("h1", { text: t("searchTitle") }), form, results);
  if (!query.trim()) {
    input.focus();
    return;
  }
  const hits = await call("search", { query });
  if (!hits.length) {
    results.append(h("h2", { id: "results-title", text: t("noResults", { q: query }) }));
    return;
  }
  results.append(h("h2", { id: "results-title", text: hits.length === 1 ? t("resultsOne", { q: query }) : t("resultsCount", { n: hits.length, q: query }) }));
  const ul = h("ul", { class: "results" });
  for (const r of hits) {
    ul.append(
      h(
        "li",
        {},
        h("a", { href: `#/lesson/${encodeURIComponent(r.course_id)}/${encodeURIComponent(r.lesson_id)}?q=${encodeURIComponent(query)}`, ...content(r.lang) }, r.lesson_title),
        h("div", { class: "where", text: [r.course_title, r.module_title].filter(Boolean).join(" › "), ...content(r.lang) }),
        h("p", { class: "snippet", ...content(r.lang) }, snippetNodes(r.snippet_html))
      )
    );
  }
  results.append(ul);
}

// One row per kind of change; each cell lists modules, lessons and
// questions by id (ids are what progress is kept by).
function changeRow(label, changes, which) {
  const items = [
    ...changes.modules[which].map((x) => `${t("modules")}: ${x}`),
    ...changes.lessons[which],
    ...changes.questions[which].map((x) => `${t("quiz")}: ${x}`),
  ];
  return h("tr", {}, h("th", { scope: "row", text: label }), h("td", {}, items.length ? h("ul", {}, items.map((x) => h("li", { text: x }))) : t("nothing")));
}

// Import: check the file first, show what would change, then install.
export async function importCourse(main) {
  const path = h("input", { type: "text", autocomplete: "off", spellcheck: "false" });
  const summary = h("section", { "aria-live": "polite" });
  const check = async () => {
    clear(summary);
    hideError();
    try {
      const p = await call("import_preview", { path: path.value });
      const heading =
        p.outcome === "installed"
          ? t("importNew", { title: p.title, version: p.offered_version })
          : p.outcome === "unchanged" || p.outcome === "kept_newer"
            ? t("importSame", { title: p.title, version: p.installed_version })
            : t("importUpdate", { title: p.title, from: p.installed_version, to: p.offered_version });
      summary.append(h("h2", { text: heading }));
      if (p.outcome === "updated") {
        summary.append(
          h("table", { class: "summary-table" }, h("tbody", {}, changeRow(t("added"), p.changes, "added"), changeRow(t("changed"), p.changes, "changed"), changeRow(t("removed"), p.changes, "removed"))),
          h("p", { text: t("keepProgress") })
        );
      }
      if (p.outcome === "unchanged" || p.outcome === "kept_newer") return;
      const install = h("button", { type: "button" }, t("install"));
      install.addEventListener("click", async () => {
        install.disabled = true;
        try {
          const done = await call("import_apply", { path: path.value });
          const msg = t("installed", { title: done.title, version: done.version });
          clear(summary).append(h("p", { class: "result pass", role: "status", text: msg }), h("p", {}, h("a", { href: `#/course/${encodeURIComponent(done.course_id)}` }, t("openCourse"))));
          announce(msg);
        } catch (e) {
          install.disabled = false;
          showError(e);
        }
      });
      summary.append(h("div", { class: "actions" }, install, h("button", { type: "button", class: "secondary", onclick: () => clear(summary) }, t("cancel"))));
    } catch (e) {
      summary.append(h("div", { class: "error-panel", role: "alert" }, h("p", { text: e.message })));
    }
  };
  const choose = h("button", { type: "button", class: "secondary" }, t("chooseFile"));
  choose.addEventListener("click", async () => {
    try {
      const picked = await openFileDialog(t("importTitle"));
      if (picked) {
        path.value = picked;
        await check();
      }
    } catch (e) {
      showError(e);
    }
  });
  const form = h("form", {}, field(t("filePath"), path), h("div", { class: "actions" }, h("button", { type: "submit" }, t("checkFile")), choose));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    check();
  });
  main.append(h("h1", { text: t("importTitle") }), h("p", { text: t("importIntro") }), form, summary);
}

export async function settings(main) {
  const s = await call("settings_get");
  const lang = languageSelect(state.profile.language);
  const langForm = h("form", {}, field(t("interfaceLanguage"), lang), h("div", { class: "actions" }, h("button", { type: "submit" }, t("save"))));
  langForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const profile = await call("profile_set_language", { language: lang.value });
      setProfile(profile);
      settings(clear(main));
      announce(t("saved"));
    } catch (e) {
      showError(e);
    }
  });
  const hub = h("input", { type: "url", value: s.hub_url || "", placeholder: "https://", autocomplete: "url" });
  const hubForm = h(
    "form",
    { "aria-labelledby": "hub-title" },
    h("h2", { id: "hub-title", text: t("hubSection") }),
    field(t("hubUrl"), hub, t("hubUrlHint")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("save")))
  );
  hubForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await call("settings_set_hub_url", { url: hub.value.trim() || null });
      announce(t("saved"));
      refreshSync();
    } catch (e) {
      showError(e);
    }
  });
  main.append(h("h1", { text: t("settingsTitle") }), langForm, hubForm);
  // Enrolment and the USB stick (the sync client's sections).
  await settingsSections(main);
  main.append(
    h("h2", { text: t("aboutSection") }),
    h("dl", {}, h("dt", { text: t("version") }), h("dd", { text: state.info.version }), h("dt", { text: t("dataDir") }), h("dd", { text: state.info.data_dir }))
  );
}
