"use strict";
// mbtkg annotate: the page. Session text is data: it is only ever set with textContent.
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const state = {
    files: [], concepts: [], file: null, view: null, turn: null, annotation: null,
    results: [], hl: 0, suggestions: [], suggester: null,
  };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function status(text) { $("status").textContent = text; }

  async function api(method, path, body) {
    const init = { method, headers: { "X-Mbtkg-Token": token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const data = await response.json();
    if (!response.ok) {
      const error = new Error(data.error || response.statusText);
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  // ---------------------------------------------------------------- sessions
  async function loadFiles() {
    const data = await api("GET", "/api/files");
    state.files = data.files;
    $("folder").textContent = data.folder;
    const pick = $("suggester");
    pick.replaceChildren();
    for (const name of data.suggesters) pick.append(new Option(name, name, false, name === data.suggester));
    state.suggester = pick.value;
    renderFiles();
  }

  function renderFiles() {
    const list = $("file-list");
    list.replaceChildren();
    for (const f of state.files) {
      const li = el("li", f.file, "state-" + f.state);
      li.dataset.file = f.file;
      if (f.file === state.file) li.classList.add("open");
      const meta = f.state === "unreadable" ? "does not read"
        : `${f.turns} turns, ${f.annotations} annotations, ` +
          (f.problems ? `${f.problems} problem(s)` : "valid");
      li.append(el("span", meta, "meta"));
      li.addEventListener("click", () => openFile(f.file));
      list.append(li);
    }
  }

  async function openFile(name) {
    state.file = name;
    state.annotation = null;
    const view = await api("GET", "/api/session?file=" + encodeURIComponent(name));
    show(view);
    $("conflict").hidden = true;
    const first = state.view.session ? state.view.session.turns[0] : null;
    if (first) selectTurn(first.id);
  }

  function show(view) {
    state.view = view;
    const f = state.files.find((x) => x.file === view.file);
    if (f) {
      f.problems = view.problems.length;
      if (view.session) {
        f.annotations = view.session.annotations.length;
        f.turns = view.session.turns.length;
        f.state = view.problems.length ? "violations" : "ok";
      } else f.state = "unreadable";
    }
    renderFiles();
    renderSession();
    renderAgreement();
  }

  function annotators() {
    const s = state.view.session;
    const ids = [...s.annotators];
    for (const a of s.annotations) if (a.annotator && !ids.includes(a.annotator)) ids.push(a.annotator);
    return ids;
  }

  function renderSession() {
    const view = state.view;
    const s = view.session;
    $("session-title").textContent = s ? `${s.id} (${view.file})` : view.file;
    const fileProblems = $("file-problems");
    fileProblems.replaceChildren();
    for (const p of view.problems) if (!p.turns.length) fileProblems.append(el("div", p.message, "problem"));
    const head = $("turn-head"), body = $("turn-body");
    head.replaceChildren(); body.replaceChildren();
    if (!s) return;
    const coders = annotators();
    const select = $("annotator");
    const current = select.value;
    select.replaceChildren();
    for (const c of coders) select.append(new Option(c, c, false, c === current));
    for (const h of ["#", "speaker", "text", ...coders]) head.append(el("th", h));
    const roles = Object.fromEntries(s.participants.map((p) => [p.id, p.role]));
    for (const t of s.turns) {
      const tr = el("tr", null, roles[t.speaker] || "");
      tr.dataset.turn = t.id;
      tr.append(el("td", t.id, "num"), el("td", t.speaker, "who"));
      const text = el("td", t.text, "text");
      for (const p of view.problems) {
        if (p.turns.includes(t.id)) text.append(el("div", p.message, "problem"));
      }
      tr.append(text);
      for (const c of coders) {
        const lane = el("td", null, "lane");
        lane.dataset.annotator = c;
        for (const a of s.annotations) {
          if (a.annotator !== c || a.start === null || a.end === null) continue;
          if (t.id < a.start || t.id > a.end) continue;
          const first = t.id === a.start;
          const chip = el("span", first ? a.label : "", "chip fam-" + a.family + (first ? "" : " cont"));
          if (a.suggested) chip.classList.add("suggested");
          if (a.id === state.annotation) chip.classList.add("active");
          chip.dataset.annotation = a.id;
          chip.title = `${a.id}: ${a.label}` + (a.confidence !== null ? ` (${a.confidence})` : "") +
            Object.entries(a.relations).map(([k, v]) => ` ${k} ${v.join(", ")}`).join(";") +
            (a.suggested ? ` - suggested by ${a.suggested}` : "");
          chip.addEventListener("click", (ev) => { ev.stopPropagation(); editAnnotation(a.id); });
          lane.append(chip);
        }
        tr.append(lane);
      }
      tr.addEventListener("click", () => selectTurn(t.id));
      body.append(tr);
    }
    markTurn();
  }

  function renderAgreement() {
    const box = $("agreement");
    box.replaceChildren();
    const a = state.view.agreement;
    if (!a) return;
    if (a.message) { box.append(el("p", a.message)); return; }
    const fmt = (v) => (v === null || v === undefined ? "-" : v.toFixed(2));
    box.append(el("p", `${a.coders.join(" vs ")}: ${a.statistic} on turns ${a.first}-${a.last} ` +
      `(${a.units} turns); mean per concept ${fmt(a.concept_mean)}, per family ${fmt(a.family_mean)}`));
    const table = el("table");
    const head = el("tr");
    for (const h of ["level", "code", "value", "band"]) head.append(el("th", h));
    table.append(head);
    for (const c of a.codes) {
      const tr = el("tr");
      tr.append(el("td", c.level), el("td", c.code), el("td", fmt(c.value)), el("td", c.band));
      table.append(tr);
    }
    box.append(table);
  }

  // ---------------------------------------------------------------- turns
  function selectTurn(id) {
    state.turn = id;
    $("turn-number").textContent = id;
    state.suggestions = []; // never accept the previous turn's suggestions on this one
    $("suggestions").replaceChildren();
    markTurn();
    suggest();
  }
  function markTurn() {
    for (const tr of document.querySelectorAll("#turn-body tr")) {
      const on = Number(tr.dataset.turn) === state.turn;
      tr.classList.toggle("selected", on);
      if (on) tr.scrollIntoView({ block: "center" });
    }
  }
  function moveTurn(step) {
    const turns = state.view && state.view.session ? state.view.session.turns : [];
    const i = turns.findIndex((t) => t.id === state.turn);
    const next = turns[Math.min(turns.length - 1, Math.max(0, i + step))];
    if (next) selectTurn(next.id);
  }

  // ---------------------------------------------------------------- concepts
  function matches(query) {
    const q = query.trim().toLowerCase();
    const scored = [];
    for (const c of state.concepts) {
      let score = 0;
      if (!q) score = 1;
      else if (c.label.toLowerCase().startsWith(q)) score = 4;
      else if (c.label.toLowerCase().includes(q)) score = 3;
      else if (c.synonyms.some((s) => s.toLowerCase().includes(q))) score = 2;
      else if (c.definitions.some((d) => d.toLowerCase().includes(q))) score = 1;
      if (score) scored.push([score, c]);
    }
    // Each group is listed once (one heading), the group with the best match first; within a
    // group, the better matches first. Sorting by score alone would split a group under two headings.
    const best = new Map();
    for (const [score, c] of scored) best.set(c.group, Math.max(best.get(c.group) || 0, score));
    scored.sort((x, y) =>
      best.get(y[1].group) - best.get(x[1].group) ||
      x[1].group.localeCompare(y[1].group) ||
      y[0] - x[0] ||
      x[1].label.localeCompare(y[1].label));
    return scored.map((x) => x[1]);
  }

  function renderResults() {
    const list = $("concept-results");
    list.replaceChildren();
    let group = null;
    state.results.forEach((c, i) => {
      if (c.group !== group) { group = c.group; list.append(el("li", group, "family")); }
      const li = el("li", c.label, i === state.hl ? "hl" : "");
      li.dataset.iri = c.iri;
      li.setAttribute("role", "option");
      li.addEventListener("mouseenter", () => { state.hl = i; renderResults(); });
      li.addEventListener("click", () => { state.hl = i; pickConcept(); });
      list.append(li);
    });
    renderCard(state.results[state.hl]);
    const hl = list.querySelector("li.hl");
    if (hl) hl.scrollIntoView({ block: "nearest" });
  }

  function renderCard(c) {
    const card = $("concept-card");
    card.replaceChildren();
    if (!c) return;
    card.append(el("strong", c.label), el("span", `  ${c.curie} (${c.group})`));
    for (const d of c.definitions) card.append(el("p", d));
    if (c.synonyms.length) card.append(el("p", "also: " + c.synonyms.join(", ")));
    for (const x of c.examples.slice(0, 1)) card.append(el("p", "example: " + x));
    for (const s of c.sources.slice(0, 1)) card.append(el("p", "source: " + s));
  }

  function search() {
    state.results = matches($("concept-search").value);
    state.hl = 0;
    renderResults();
  }

  async function pickConcept() {
    const c = state.results[state.hl];
    if (!c || state.turn === null) return;
    await addAnnotation({ concept: c.label, turns: state.turn, annotator: $("annotator").value });
    $("concept-search").blur();
  }

  // ---------------------------------------------------------------- suggestions
  let suggestSeq = 0;
  async function suggest() {
    if (!state.file || state.turn === null) return;
    const seq = ++suggestSeq;
    const list = $("suggestions");
    try {
      const data = await api("POST", "/api/suggest",
        { file: state.file, turn: state.turn, suggester: $("suggester").value });
      if (seq !== suggestSeq) return;
      state.suggestions = data.suggestions;
      state.suggester = data.suggester;
      list.replaceChildren();
      data.suggestions.forEach((s) => {
        const li = el("li", s.label);
        li.dataset.iri = s.iri;
        li.append(el("span", ` ${s.score.toFixed(2)}`, "score"));
        li.addEventListener("click", () => accept(s));
        list.append(li);
      });
    } catch (e) { list.replaceChildren(el("li", e.message, "problem")); }
  }

  async function accept(s) {
    if (state.turn === null) return;
    if (!s) { status("no suggestion for this turn yet"); return; }
    await addAnnotation({ concept: s.label, turns: state.turn, annotator: $("annotator").value,
      suggested: state.suggester });
  }

  // ---------------------------------------------------------------- edits
  async function send(edit) {
    try {
      const view = await api("POST", "/api/edit", { file: state.file, version: state.view.version, ...edit });
      state.annotation = edit.op === "remove" ? null : view.edited;
      show(view);
      fillEditor();
      status(`saved ${view.file}` + (view.problems.length ? ` - ${view.problems.length} problem(s)` : " - valid"));
    } catch (e) {
      if (e.data && e.data.conflict) {
        $("conflict-text").textContent = e.message;
        $("conflict").hidden = false;
        status("not saved: the file changed on disk");
      } else status("not saved: " + e.message);
    }
  }
  function addAnnotation(fields) { return send({ op: "add", fields }); }

  function editAnnotation(id) {
    state.annotation = id;
    renderSession();
    fillEditor();
  }
  function current() {
    const s = state.view && state.view.session;
    return s ? s.annotations.find((a) => a.id === state.annotation) : null;
  }
  function fillEditor() {
    const a = current();
    $("editing").textContent = a ? a.id : "-";
    const set = (id, v) => { $(id).value = v === null || v === undefined ? "" : v; };
    set("ed-concept", a && a.concept); set("ed-first", a && a.start); set("ed-last", a && a.end);
    set("ed-annotator", a && a.annotator); set("ed-confidence", a && a.confidence);
    set("ed-quote", a && a.quote); set("ed-note", a && a.note);
    set("ed-relations", a ? Object.entries(a.relations).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") : "");
  }
  function editorFields() {
    const text = (id) => ($(id).value.trim() === "" ? null : $(id).value);
    const first = Number($("ed-first").value), last = Number($("ed-last").value || first);
    const relations = {};
    for (const part of $("ed-relations").value.split(";")) {
      const [name, targets] = part.split(":");
      if (!name || !name.trim() || !targets) continue;
      relations[name.trim()] = targets.split(",").map((t) => t.trim()).filter(Boolean);
    }
    const confidence = $("ed-confidence").value === "" ? null : Number($("ed-confidence").value);
    return {
      concept: text("ed-concept"),
      turns: first === last ? first : [first, last], annotator: text("ed-annotator"), confidence,
      quote: text("ed-quote"), note: text("ed-note"),
      relations: Object.keys(relations).length ? relations : null,
    };
  }
  $("editor").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (current()) send({ op: "update", id: state.annotation, fields: editorFields() });
  });
  $("remove").addEventListener("click", () => {
    if (current()) send({ op: "remove", id: state.annotation });
  });
  $("reload").addEventListener("click", () => { if (state.file) openFile(state.file); });
  $("suggester").addEventListener("change", suggest);

  // ---------------------------------------------------------------- keys
  const searchBox = $("concept-search");
  searchBox.addEventListener("input", search);
  searchBox.addEventListener("focus", search);
  searchBox.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { state.hl = Math.min(state.results.length - 1, state.hl + 1); renderResults(); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { state.hl = Math.max(0, state.hl - 1); renderResults(); ev.preventDefault(); }
    else if (ev.key === "Enter") { ev.preventDefault(); pickConcept(); }
    else if (ev.key === "Escape") { searchBox.blur(); }
  });
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "j") moveTurn(1);
    else if (ev.key === "k") moveTurn(-1);
    else if (ev.key === "/") { ev.preventDefault(); searchBox.focus(); searchBox.select(); }
    else if (ev.key === "a") accept(state.suggestions[0]);
    else if (ev.key === "s") suggest();
    else return;
    ev.preventDefault();
  });

  // ---------------------------------------------------------------- start
  (async function start() {
    try {
      const [, concepts] = await Promise.all([loadFiles(), api("GET", "/api/concepts")]);
      state.concepts = concepts.concepts;
      const labels = $("concept-labels");
      for (const c of state.concepts) labels.append(new Option(c.label));
      document.body.dataset.ready = "1";
      status(`${state.files.length} session file(s), ${state.concepts.length} concepts`);
    } catch (e) { status("cannot start: " + e.message); }
  })();
})();
