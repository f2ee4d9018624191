// The shell: who is learning, the router, the sync status that is always
// on screen, and the one place errors are shown. Screens live in
// screens.js and player.js; every screen renders into <main>.

import { call, AppError } from "./api.js";
import { h, clear } from "./dom.js";
import { setLanguage, t, formatDateTime } from "./i18n.js";
import * as screens from "./screens.js";
import * as player from "./player.js";

export const state = {
  profile: null, // {id, name, language, has_pin}
  info: null, // {version, data_dir}
  leaving: null, // a function the current screen runs before another replaces it
};

const main = () => document.getElementById("main");

// Routes: #/catalog, #/course/ID, #/lesson/COURSE/LESSON[?q=…|anchor=…],
// #/quiz/COURSE/QUIZ, #/progress[/COURSE], #/certificate/COURSE,
// #/search[?q=…], #/import, #/settings, #/profiles, #/welcome.
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function link(hash, text, attrs = {}) {
  return h("a", { href: hash, ...attrs }, text);
}

async function route() {
  if (state.leaving) {
    const leave = state.leaving;
    state.leaving = null;
    try {
      await leave();
    } catch (e) {
      showError(e);
    }
  }
  const { parts, params } = parseHash();
  const [screen = "catalog", ...rest] = parts;
  if (!state.profile && !["welcome", "profiles"].includes(screen)) {
    return go(state.hasProfiles ? "#/profiles" : "#/welcome");
  }
  const target = clear(main());
  document.querySelector(".shell").classList.toggle("no-nav", !state.profile);
  document.getElementById("nav").hidden = !state.profile;
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === screen || (screen === "certificate" && a.dataset.nav === "progress")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const screensByName = {
    welcome: () => screens.welcome(target),
    profiles: () => screens.profiles(target),
    catalog: () => screens.catalog(target),
    course: () => screens.outline(target, rest[0]),
    lesson: () => player.lesson(target, rest[0], rest[1], params),
    quiz: () => player.quiz(target, rest[0], rest[1]),
    progress: () => screens.progress(target, rest[0]),
    certificate: () => screens.certificate(target, rest[0]),
    search: () => screens.search(target, params.get("q") || ""),
    import: () => screens.importCourse(target),
    settings: () => screens.settings(target),
  };
  const render = screensByName[screen] || screensByName.catalog;
  try {
    await render();
  } catch (e) {
    renderError(target, e);
  }
  // Move focus to the new screen's heading so keyboard and screen-reader
  // users land at its start, as a page load would.
  const heading = target.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: params.has("q") || params.has("anchor") });
  }
  refreshSync();
}

// A screen that failed to load still shows something: what happened, and a
// way on.
export function renderError(target, e) {
  clear(target);
  const err = e instanceof AppError ? e : new AppError("internal", String(e && e.message ? e.message : e));
  target.append(
    h("h1", { text: t("errorTitle") }),
    h(
      "div",
      { class: "error-panel", role: "alert" },
      h("p", { text: err.message }),
      h("p", { class: "kind", text: `(${err.kind})` })
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onclick: () => route() }, t("tryAgain")),
      state.profile ? h("a", { class: "button secondary", href: "#/catalog" }, t("backToCourses")) : null
    )
  );
}

// An error from an action on a screen that stays: a dismissable banner.
export function showError(e) {
  const banner = document.getElementById("error");
  const message = e && e.message ? e.message : String(e);
  clear(banner).append(
    h("span", { text: message }),
    h("button", { type: "button", class: "secondary", onclick: () => (banner.hidden = true) }, t("dismiss"))
  );
  banner.hidden = false;
}

export function hideError() {
  document.getElementById("error").hidden = true;
}

export function announce(text) {
  const live = document.getElementById("announce");
  live.textContent = "";
  // A fresh text node after a tick so screen readers announce repeats too.
  setTimeout(() => (live.textContent = text), 50);
}

export function setProfile(profile) {
  state.profile = profile;
  setLanguage(profile ? profile.language : state.language || "en");
  const who = document.getElementById("who");
  who.hidden = !profile;
  who.textContent = profile ? t("signedInAs", { name: profile.name }) : "";
}

// The sync status is honest: it says what is waiting, when the hub last
// confirmed anything, and whether a hub is set at all.
export async function refreshSync() {
  try {
    const s = await call("sync_status");
    document.getElementById("sync-pending").textContent = s.pending === null || s.pending === undefined ? "—" : t("syncEvents", { n: s.pending });
    document.getElementById("sync-last").textContent = s.last_confirmed_sync ? formatDateTime(s.last_confirmed_sync) : t("never");
    document.getElementById("sync-hub").textContent = !s.hub_url
      ? t("noHubSet")
      : s.hub_reachable === true
        ? `${s.hub_url} (${t("hubReachable")})`
        : s.hub_reachable === false
          ? `${s.hub_url} (${t("hubUnreachable")})`
          : s.hub_url;
  } catch (e) {
    document.getElementById("sync-hub").textContent = e.message;
  }
}

async function start() {
  try {
    state.info = await call("app_info");
    const profiles = await call("profiles_list");
    state.hasProfiles = profiles.length > 0;
    const current = await call("profile_current");
    setProfile(current);
  } catch (e) {
    setLanguage("en");
    document.querySelector(".shell").classList.add("no-nav");
    renderError(clear(main()), e);
    document.body.dataset.ready = "";
    return;
  }
  window.addEventListener("hashchange", route);
  // The skip link moves focus; it must not change the route.
  document.querySelector(".skip-link").addEventListener("click", (ev) => {
    ev.preventDefault();
    main().focus();
  });
  // Record the lesson being read if the window closes.
  window.addEventListener("pagehide", () => {
    if (state.leaving) state.leaving();
  });
  if (!location.hash || location.hash === "#") {
    location.replace(state.profile ? "#/catalog" : state.hasProfiles ? "#/profiles" : "#/welcome");
  }
  await route();
  document.body.dataset.ready = "";
  setInterval(refreshSync, 30000);
}

start();
