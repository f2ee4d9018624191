// The lesson player, knowledge checks, module quizzes and the final
// assessment.
//
// Reading time is counted only while the window is visible, and recorded
// (with the scroll position, for resuming) when the learner leaves the
// lesson, reaches its end, and every minute while reading, so that closing
// the laptop loses at most a minute.

import { call, assetUrl } from "./api.js";
import { h, clear, nextId } from "./dom.js";
import { t, content } from "./i18n.js";
import { state, announce, showError } from "./app.js";
import { fallbackNote } from "./screens.js";

const FLUSH_EVERY_MS = 60000;

function lessonHash(courseId, lessonId, extra = "") {
  return `#/lesson/${encodeURIComponent(courseId)}/${encodeURIComponent(lessonId)}${extra}`;
}

// Resolve what the compiler left for the app: `asset:NAME` images,
// `lesson:ID#anchor` links.
function scrollToAnchor(anchor) {
  const target = document.getElementById(anchor);
  if (!target) return;
  target.setAttribute("tabindex", "-1");
  target.scrollIntoView({ block: "start" });
  target.focus({ preventScroll: true });
}

function resolveLinks(root, courseId, lessonId) {
  // Links to a heading of this same lesson: scroll there, do not route.
  for (const a of root.querySelectorAll("a[href^='#']")) {
    const anchor = decodeURIComponent(a.getAttribute("href").slice(1));
    a.setAttribute("href", lessonHash(courseId, lessonId, `?anchor=${encodeURIComponent(anchor)}`));
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      scrollToAnchor(anchor);
    });
  }
  for (const img of root.querySelectorAll("img[src^='asset:']")) {
    img.src = assetUrl(courseId, img.getAttribute("src").slice("asset:".length));
  }
  for (const a of root.querySelectorAll("a[href^='lesson:']")) {
    const [id, anchor] = a.getAttribute("href").slice("lesson:".length).split("#");
    a.setAttribute("href", lessonHash(courseId, id, anchor ? `?anchor=${encodeURIComponent(anchor)}` : ""));
  }
  for (const a of root.querySelectorAll("a[href^='http']")) {
    // The course must never need the network; say where an outside link goes.
    a.setAttribute("rel", "noopener noreferrer");
    a.setAttribute("target", "_blank");
  }
}

function scrollFraction() {
  const max = document.documentElement.scrollHeight - window.innerHeight;
  if (max <= 0) return 1;
  return Math.min(1, Math.max(0, window.scrollY / max));
}

function scrollToFraction(f) {
  const max = document.documentElement.scrollHeight - window.innerHeight;
  if (max > 0) window.scrollTo({ top: f * max, behavior: "instant" });
}

// Find the first place the search query occurs in the lesson text, ignoring
// case and accents as the search index does, and mark it.
function markMatch(root, query) {
  const fold = (s) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  const words = query.split(/\s+/).map((w) => w.replace(/[^\p{L}\p{N}'-]/gu, "")).filter((w) => w.length > 1);
  const terms = [query.trim(), ...words.sort((a, b) => b.length - a.length)].map(fold).filter(Boolean);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const term of terms) {
    for (const node of nodes) {
      const text = node.nodeValue;
      let folded = "";
      const map = [];
      for (let i = 0; i < text.length; i++) {
        const f = fold(text[i]);
        folded += f;
        for (let k = 0; k < f.length; k++) map.push(i);
      }
      // Prefix match on the last word, like the search itself.
      const at = folded.indexOf(term);
      if (at < 0) continue;
      const start = map[at];
      const end = (map[at + term.length - 1] ?? text.length - 1) + 1;
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, end);
      const mark = h("mark", { class: "found", tabindex: "-1" });
      range.surroundContents(mark);
      return mark;
    }
  }
  return null;
}

function optionInputs(q, name, multiple) {
  return q.options.map((o) => {
    const input = h("input", { type: multiple ? "checkbox" : "radio", name, value: o.id });
    const label = h("label", { class: "option" }, input, h("span", { html: o.html, ...content(q.lang) }));
    return { id: o.id, input, label, feedback: h("div", { class: "option-feedback", hidden: true, ...content(q.lang) }) };
  });
}

function questionKindText(q) {
  return q.multiple ? t("chooseAll") : t("chooseOne");
}

// A knowledge check inside a lesson: answer, see at once whether it was
// right, the feedback for what you chose, and the explanation.
function knowledgeCheck(courseId, q) {
  const name = nextId("q");
  const multiple = q.multiple;
  const opts = optionInputs(q, name, multiple);
  const verdict = h("p", { class: "verdict", role: "status", "aria-live": "polite" });
  const explanation = h("div", { class: "explanation", hidden: true, ...content(q.lang) });
  const check = h("button", { type: "button" }, t("checkAnswer"));
  const legendId = nextId("legend");
  const box = h(
    "fieldset",
    { class: "question-box", "aria-labelledby": legendId, dataset: { questionId: q.id } },
    h("legend", { id: legendId }, h("span", { class: "kind", text: t("knowledgeCheck") }), h("div", { class: "stem", html: q.stem_html, ...content(q.lang) })),
    h("p", { class: "muted", text: questionKindText(q) }),
    opts.map((o) => [o.label, o.feedback]),
    h("div", { class: "actions" }, check),
    verdict,
    explanation
  );
  check.addEventListener("click", async () => {
    const response = opts.filter((o) => o.input.checked).map((o) => o.id);
    if (!response.length) {
      verdict.className = "verdict";
      verdict.textContent = t("chooseFirst");
      return;
    }
    check.disabled = true;
    try {
      const fb = await call("answer_question", { course: courseId, attempt: null, question: q.id, response });
      revealFeedback(opts, fb, verdict, explanation);
    } catch (e) {
      showError(e);
    } finally {
      check.disabled = false;
    }
  });
  return box;
}

// The verdict, the feedback of every option chosen (and of the right
// answer), and the explanation.
function revealFeedback(opts, fb, verdict, explanation) {
  verdict.className = `verdict ${fb.correct ? "right" : "wrong"}`;
  verdict.textContent = fb.correct ? t("correct") : t("incorrect");
  clear(explanation).append(h("strong", { text: `${t("explanation")}: ` }), h("div", { html: fb.explanation_html || "" }));
  explanation.hidden = false;
  for (const o of opts) {
    const info = fb.options.find((x) => x.id === o.id) || {};
    const chosen = !!info.chosen;
    o.label.classList.toggle("chosen-right", chosen && !!info.correct);
    o.label.classList.toggle("chosen-wrong", chosen && !info.correct);
    const show = chosen || info.correct;
    o.feedback.hidden = !show;
    clear(o.feedback);
    if (show) {
      o.feedback.className = `option-feedback ${info.correct ? "right" : "wrong"}`;
      // The option's own feedback says whether it was right; an option not
      // chosen but correct is named as the right answer.
      if (!chosen) o.feedback.append(h("strong", { text: `${t("correctAnswerWas")}: ` }));
      o.feedback.append(h("span", { html: info.feedback_html || "" }));
    }
  }
}

// Titles of the lessons around this one and where it sits, from the outline.
function placeOf(outline, lessonId) {
  const all = outline.modules.flatMap((m) => m.lessons);
  const i = all.findIndex((l) => l.id === lessonId);
  const title = (id) => (all.find((l) => l.id === id) || { title: id }).title;
  return { index: i + 1, count: all.length, title, lesson: all[i] };
}

export async function lesson(main, courseId, lessonId, params) {
  const [v, o] = await Promise.all([call("lesson", { course: courseId, lesson: lessonId }), call("outline", { course: courseId })]);
  const place = placeOf(o, lessonId);
  const article = h("article", { class: "lesson-body", "aria-labelledby": "lesson-title", ...content(v.lang) });
  article.innerHTML = v.html;
  resolveLinks(article, courseId, lessonId);
  const questions = new Map((v.questions || []).map((q) => [q.id, q]));
  for (const ph of article.querySelectorAll("div.question[data-question-id]")) {
    const q = questions.get(ph.dataset.questionId);
    if (v.kind === "quiz" || !q) ph.remove();
    else ph.replaceWith(knowledgeCheck(courseId, q));
  }

  const toc = h("nav", { class: "toc", "aria-labelledby": "toc-title" }, h("h2", { id: "toc-title", text: t("onThisPage") }));
  const tocList = h("ul", content(v.lang));
  for (const hd of v.headings || []) {
    const a = h("a", { href: lessonHash(courseId, lessonId, `?anchor=${encodeURIComponent(hd.anchor)}`) }, hd.text);
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      scrollToAnchor(hd.anchor);
    });
    tocList.append(h("li", { class: `level-${hd.level}` }, a));
  }
  toc.append(tocList);

  const pager = h(
    "nav",
    { class: "pager", "aria-label": `${t("previous")} / ${t("next")}` },
    v.prev ? h("a", { class: "button secondary", href: lessonHash(courseId, v.prev), rel: "prev" }, `${t("previous")}: ${place.title(v.prev)}`) : h("span"),
    v.next ? h("a", { class: "button", href: lessonHash(courseId, v.next), rel: "next" }, `${t("next")}: ${place.title(v.next)}`) : h("a", { class: "button", href: `#/course/${encodeURIComponent(courseId)}` }, t("backToOutline"))
  );
  const endMarker = h("div", { class: "end-marker", "aria-hidden": "true" });
  const doneNote = h("p", { class: "muted", role: "status" });

  const body = h("div", {}, article);
  if (v.kind === "quiz") body.append(quizPanel(courseId, lessonId, { title: v.title, isAssessment: false, status: place.lesson && place.lesson.quiz, passingScore: o.passing_score }));
  body.append(endMarker, doneNote, pager);

  main.append(
    h("p", { class: "breadcrumb" }, h("a", { href: `#/course/${encodeURIComponent(courseId)}` }, o.title), " › ", v.module_title, " · ", t("lessonPosition", { i: place.index, n: place.count })),
    h("h1", { id: "lesson-title", text: v.title, ...content(v.lang) }),
    fallbackNote(v),
    h("div", { class: "player" }, body, (v.headings || []).length ? toc : null)
  );

  if (v.kind === "quiz") return; // quizzes are done by submitting, not by reading

  // Time and position tracking.
  let seconds = 0;
  let reachedEnd = false;
  let recordedEnd = v.status === "done";
  let visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  const tick = () => {
    if (visibleSince !== null) {
      seconds += (Date.now() - visibleSince) / 1000;
      visibleSince = document.visibilityState === "visible" ? Date.now() : null;
    }
  };
  const onVisibility = () => {
    tick();
    if (document.visibilityState === "visible") visibleSince = Date.now();
  };
  document.addEventListener("visibilitychange", onVisibility);
  const record = async () => {
    tick();
    const s = Math.round(seconds);
    seconds -= s;
    const position = reachedEnd ? Math.max(scrollFraction(), 0) : scrollFraction();
    await call("record_view", { course: courseId, lesson: lessonId, seconds: s, position, reachedEnd });
  };
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !reachedEnd) {
      reachedEnd = true;
      if (!recordedEnd) {
        recordedEnd = true;
        doneNote.textContent = t("markedDone");
        record().catch(showError);
      }
    }
  });
  const timer = setInterval(() => record().catch(() => {}), FLUSH_EVERY_MS);
  state.leaving = async () => {
    clearInterval(timer);
    observer.disconnect();
    document.removeEventListener("visibilitychange", onVisibility);
    await record();
  };

  // Where to start: a search match, a linked heading, or where the learner
  // left off.
  requestAnimationFrame(() => {
    const q = params.get("q");
    const anchor = params.get("anchor");
    if (q) {
      const mark = markMatch(article, q);
      if (mark) {
        mark.scrollIntoView({ block: "center" });
        mark.focus({ preventScroll: true });
      }
    } else if (anchor && document.getElementById(anchor)) {
      scrollToAnchor(anchor);
    } else if (v.position > 0 && v.position < 1) {
      scrollToFraction(v.position);
    } else {
      window.scrollTo({ top: 0, behavior: "instant" });
    }
    observer.observe(endMarker);
  });
}

// The final assessment has its own route; module quizzes show inside their
// lesson.
export async function quiz(main, courseId, quizId) {
  const o = await call("outline", { course: courseId });
  const a = o.assessment && o.assessment.id === quizId ? o.assessment : null;
  const title = a ? a.title || t("finalAssessment") : t("quiz");
  main.append(h("p", { class: "breadcrumb" }, h("a", { href: `#/course/${encodeURIComponent(courseId)}` }, o.title)), h("h1", { text: title }), fallbackNote(o));
  if (a) main.append(h("p", { text: t("assessmentInfo", { n: a.questions, m: a.minutes }) }));
  main.append(quizPanel(courseId, quizId, { title, isAssessment: !!a, status: a, passingScore: o.passing_score }));
}

function scorePercent(score) {
  return score && score.total ? Math.floor((score.correct * 100) / score.total) : 0;
}

// A quiz: an intro with the rules, an attempt (carried on if one was left
// open), then the score and a review. Module quizzes check each answer at
// once; the final assessment says nothing until it is submitted.
function quizPanel(courseId, quizId, meta) {
  const panel = h("section", { class: "quiz-panel", "aria-label": meta.title });
  const intro = () => {
    clear(panel);
    const s = meta.status;
    if (meta.isAssessment) panel.append(h("p", { text: t("passMark", { score: Math.round(meta.passingScore * 100) }) }));
    if (s && s.attempts) panel.append(h("p", { text: `${t("attempts", { n: s.attempts })} · ${t("bestScore", { p: scorePercent(s.best) })}` }));
    panel.append(h("p", { class: "muted", text: t("retryRule") }));
    const startBtn = h("button", { type: "button" }, meta.isAssessment ? t("startAssessment") : t("startQuiz"));
    startBtn.addEventListener("click", () => begin(startBtn));
    panel.append(h("div", { class: "actions" }, startBtn));
  };
  const begin = async (btn) => {
    btn.disabled = true;
    try {
      const open = await call("quiz_open", { course: courseId, quiz: quizId });
      renderAttempt(open || (await call("quiz_start", { course: courseId, quiz: quizId })));
    } catch (e) {
      btn.disabled = false;
      showError(e);
    }
  };
  const renderAttempt = (attempt) => {
    clear(panel);
    const started = Date.now();
    const n = attempt.questions.length;
    const recorded = new Map(Object.entries(attempt.answers || {}).map(([k, v]) => [k, [...v].sort().join(",")]));
    // Answers are recorded one after another, in the order they were
    // given, so the last choice is the one that counts.
    let queue = Promise.resolve();
    const answer = (q, response) => {
      const next = queue.then(async () => {
        const r = typeof response === "function" ? response() : response;
        if (!r.length) return null; // nothing chosen: nothing to record
        const fb = await call("answer_question", { course: courseId, attempt: attempt.attempt_id, question: q.id, response: r });
        recorded.set(q.id, [...r].sort().join(","));
        return fb;
      });
      queue = next.catch(() => {});
      return next;
    };
    panel.append(h("p", { text: t("quizIntro", { n }) }));
    const form = h("form", { novalidate: true });
    const groups = attempt.questions.map((q, i) => {
      const opts = optionInputs(q, nextId("aq"), q.multiple);
      const given = (attempt.answers || {})[q.id] || [];
      for (const o of opts) o.input.checked = given.includes(o.id);
      const legendId = nextId("legend");
      const verdict = h("p", { class: "verdict", role: "status", "aria-live": "polite" });
      const explanation = h("div", { class: "explanation", hidden: true, ...content(q.lang) });
      const chosen = () => opts.filter((o) => o.input.checked).map((o) => o.id);
      const box = h(
        "fieldset",
        { class: "question-box", "aria-labelledby": legendId, dataset: { questionId: q.id } },
        h("legend", { id: legendId }, h("span", { class: "kind", text: t("questionN", { i: i + 1, n }) }), h("div", { class: "stem", html: q.stem_html, ...content(q.lang) })),
        h("p", { class: "muted", text: questionKindText(q) }),
        opts.map((o) => [o.label, o.feedback])
      );
      if (meta.isAssessment) {
        // Each choice is recorded as it is made, so nothing is lost if the
        // laptop dies mid-assessment; nothing is revealed.
        for (const o of opts) o.input.addEventListener("change", () => answer(q, chosen).catch(showError));
      } else {
        const check = h("button", { type: "button", class: "secondary" }, t("checkAnswer"));
        check.addEventListener("click", async () => {
          const response = chosen();
          if (!response.length) {
            verdict.textContent = t("chooseFirst");
            return;
          }
          try {
            const fb = await answer(q, response);
            revealFeedback(opts, fb, verdict, explanation);
            for (const o of opts) o.input.disabled = true;
            check.disabled = true;
          } catch (e) {
            showError(e);
          }
        });
        box.append(h("div", { class: "actions" }, check), verdict, explanation);
      }
      form.append(box);
      return { q, chosen };
    });
    const warning = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit" }, t("submitAnswers"));
    form.append(warning, h("div", { class: "actions" }, submit));
    let confirmed = false;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const missing = groups.filter((g) => !g.chosen().length).length;
      if (missing && !confirmed) {
        warning.textContent = t("unanswered", { n: missing });
        submit.textContent = t("submitAnyway");
        confirmed = true;
        return;
      }
      submit.disabled = true;
      try {
        await queue;
        // Choices not yet recorded (a module quiz answer never checked).
        for (const g of groups) {
          const c = g.chosen();
          if (c.length && recorded.get(g.q.id) !== [...c].sort().join(",")) await answer(g.q, c);
        }
        const result = await call("quiz_submit", { course: courseId, attempt: attempt.attempt_id, seconds: Math.round((Date.now() - started) / 1000) });
        meta.status = { attempts: result.attempts, best: result.best };
        renderResult(result);
      } catch (e) {
        submit.disabled = false;
        showError(e);
      }
    });
    panel.append(form);
    const first = form.querySelector("input:not(:disabled)");
    if (first) first.focus();
  };
  const renderResult = (r) => {
    clear(panel);
    const verdict = meta.isAssessment ? ` — ${r.passed ? t("passed") : t("failed")}` : "";
    const head = h("h2", { class: `result ${meta.isAssessment ? (r.passed ? "pass" : "fail") : ""}`, tabindex: "-1", text: `${t("yourScore", { c: r.score.correct, t: r.score.total, p: r.percent })}${verdict}` });
    panel.append(head);
    if (meta.isAssessment) panel.append(h("p", { text: t("passMark", { score: Math.round(r.passing_score * 100) }) }));
    panel.append(h("p", { text: `${t("attempts", { n: r.attempts })} · ${t("bestScore", { p: scorePercent(r.best) })}` }), h("p", { class: "muted", text: t("retryRule") }));
    const again = h("button", { type: "button", class: "secondary" }, t("retry"));
    again.addEventListener("click", async () => {
      again.disabled = true;
      try {
        renderAttempt(await call("quiz_start", { course: courseId, quiz: quizId }));
      } catch (e) {
        again.disabled = false;
        showError(e);
      }
    });
    const satisfied = r.recorded && r.recorded.course_satisfied;
    panel.append(
      h(
        "div",
        { class: "actions" },
        again,
        h("a", { class: "button secondary", href: `#/course/${encodeURIComponent(courseId)}` }, t("backToOutline")),
        satisfied ? h("a", { class: "button", href: `#/certificate/${encodeURIComponent(courseId)}` }, t("viewCertificate")) : null
      )
    );
    panel.append(h("h3", { text: t("review") }));
    r.review.forEach((item, i) => {
      const label = t("questionN", { i: i + 1, n: r.review.length });
      const box = h(
        "div",
        { class: "question-box", role: "group", "aria-label": label },
        h("p", { class: "kind", text: label }),
        h("div", { class: "stem", html: item.stem_html }),
        h("p", { class: `verdict ${item.correct ? "right" : "wrong"}`, text: item.correct ? t("correct") : t("incorrect") })
      );
      const ul = h("ul", {});
      for (const o of item.options) {
        const marks = [];
        if (o.chosen) marks.push(t("yourAnswer"));
        if (o.correct) marks.push(t("correctAnswerWas"));
        ul.append(
          h(
            "li",
            { class: `option ${o.chosen ? (o.correct ? "chosen-right" : "chosen-wrong") : ""}` },
            h("span", {}, h("span", { html: o.html }), marks.length ? h("strong", { text: ` (${marks.join(", ")})` }) : null, o.chosen || o.correct ? h("div", { class: `option-feedback ${o.correct ? "right" : "wrong"}`, html: o.feedback_html }) : null)
          )
        );
      }
      if (!item.response.length) box.append(h("p", { class: "muted", text: `${t("yourAnswer")}: ${t("noAnswer")}` }));
      box.append(ul, h("div", { class: "explanation" }, h("strong", { text: `${t("explanation")}: ` }), h("div", { html: item.explanation_html })));
      panel.append(box);
    });
    head.focus();
    announce(head.textContent);
  };
  intro();
  return panel;
}
