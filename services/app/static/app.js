// Norikae web app: progressive enhancement only. Without this script every page still
// works (the server resolves typed station names). With it: as-you-type station
// suggestions (WAI-ARIA 1.2 combobox with a listbox popup; keyboard, mouse and touch) and the
// from/to swap button.
(function () {
  "use strict";

  var lang = document.body.getAttribute("data-lang") || "ja";
  var DEBOUNCE_MS = 150;

  function Combobox(root, index) {
    this.root = root;
    this.input = root.querySelector("input[type=text]");
    this.hidden = root.querySelector("input[data-station-id]");
    this.listbox = root.querySelector("[role=listbox]");
    this.live = root.parentNode.querySelector("[data-live]");
    this.options = [];
    this.active = -1;
    this.timer = null;
    this.request = null;
    this.lastQuery = null;
    this.index = index;
    var input = this.input;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.listbox.id);
    var self = this;
    input.addEventListener("input", function () { self.onInput(); });
    input.addEventListener("keydown", function (event) { self.onKeyDown(event); });
    input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    input.addEventListener("focus", function () { if (self.options.length && !self.hidden.value) { self.open(); } });
    // pointerdown keeps the focus in the input; click (mouse or tap) picks the option.
    this.listbox.addEventListener("pointerdown", function (event) { event.preventDefault(); });
    this.listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    this.listbox.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      if (item) { self.pick(Number(item.getAttribute("data-index"))); }
    });
  }

  Combobox.prototype.onInput = function () {
    // Typing again forgets a picked station: the server resolves the text instead.
    this.hidden.value = "";
    var self = this;
    clearTimeout(this.timer);
    var text = this.input.value.trim();
    if (!text) { this.render([]); this.close(); return; }
    this.timer = setTimeout(function () { self.fetch(text); }, DEBOUNCE_MS);
  };

  Combobox.prototype.fetch = function (text) {
    if (text === this.lastQuery) { this.open(); return; }
    if (this.request) { this.request.abort(); }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    this.request = controller;
    var self = this;
    var url = "/suggest?q=" + encodeURIComponent(text) + "&lang=" + encodeURIComponent(lang);
    fetch(url, { signal: controller ? controller.signal : undefined, headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (answer) {
        if (self.input.value.trim() !== text) { return; }
        self.lastQuery = text;
        if (!answer.ok) { self.renderMessage(answer.body.error || ""); return; }
        self.render(answer.body.results || []);
      })
      .catch(function (error) { if (error && error.name === "AbortError") { return; } });
  };

  Combobox.prototype.render = function (stations) {
    var listbox = this.listbox;
    while (listbox.firstChild) { listbox.removeChild(listbox.firstChild); }
    this.options = stations;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    var self = this;
    stations.forEach(function (station, position) {
      var item = document.createElement("li");
      item.id = listbox.id + "-option-" + position;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-index", String(position));
      item.setAttribute("data-station-id", station.id);
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = station.name;
      item.appendChild(name);
      if (station.reading) {
        var reading = document.createElement("span");
        reading.className = "reading";
        reading.setAttribute("lang", "ja");
        reading.textContent = " " + station.reading;
        item.appendChild(reading);
      }
      if (station.label) {
        var label = document.createElement("span");
        label.className = "label";
        label.textContent = station.label;
        item.appendChild(label);
      }
      listbox.appendChild(item);
    });
    if (!stations.length && this.input.value.trim()) {
      this.renderMessage(this.root.getAttribute("data-empty-text"));
      return;
    }
    var countText = stations.length === 1 ? "data-count-one-text" : "data-count-text";
    this.announce((this.root.getAttribute(countText) || "{n}").replace("{n}", String(stations.length)));
    if (stations.length && document.activeElement === this.input) { this.open(); } else { this.close(); }
  };

  Combobox.prototype.renderMessage = function (text) {
    var listbox = this.listbox;
    while (listbox.firstChild) { listbox.removeChild(listbox.firstChild); }
    this.options = [];
    var item = document.createElement("li");
    item.className = "empty";
    item.setAttribute("aria-disabled", "true");
    item.textContent = text;
    listbox.appendChild(item);
    this.announce(text);
    this.open();
  };

  Combobox.prototype.announce = function (text) {
    if (this.live) { this.live.textContent = text; }
  };

  Combobox.prototype.open = function () {
    if (!this.listbox.firstChild) { return; }
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Combobox.prototype.close = function () {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.setActive(-1);
  };

  Combobox.prototype.isOpen = function () { return !this.listbox.hidden; };

  Combobox.prototype.setActive = function (position) {
    var items = this.listbox.querySelectorAll("[role=option]");
    for (var i = 0; i < items.length; i++) { items[i].setAttribute("aria-selected", i === position ? "true" : "false"); }
    this.active = position;
    if (position >= 0 && items[position]) {
      this.input.setAttribute("aria-activedescendant", items[position].id);
      items[position].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Combobox.prototype.pick = function (position) {
    var station = this.options[position];
    if (!station) { return; }
    this.input.value = station.name;
    this.hidden.value = station.id;
    this.lastQuery = station.name;
    this.close();
    this.announce(station.name);
  };

  Combobox.prototype.onKeyDown = function (event) {
    var count = this.options.length;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!this.isOpen()) { this.open(); }
        if (count) { this.setActive((this.active + 1) % count); }
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!this.isOpen()) { this.open(); }
        if (count) { this.setActive(this.active <= 0 ? count - 1 : this.active - 1); }
        break;
      case "Home":
      case "End":
        if (this.isOpen() && count && this.active >= 0) {
          event.preventDefault();
          this.setActive(event.key === "Home" ? 0 : count - 1);
        }
        break;
      case "Enter":
        if (this.isOpen() && this.active >= 0) {
          event.preventDefault();
          this.pick(this.active);
        }
        break;
      case "Escape":
        if (this.isOpen()) { event.preventDefault(); this.close(); }
        else if (this.input.value) { event.preventDefault(); this.input.value = ""; this.hidden.value = ""; this.render([]); }
        break;
      case "Tab":
        if (this.isOpen() && this.active >= 0) { this.pick(this.active); }
        break;
      default:
        break;
    }
  };

  function setUpSwap(form) {
    var button = form.querySelector("[data-swap]");
    var boxes = form.querySelectorAll("[data-combobox]");
    if (!button || boxes.length !== 2) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var first = boxes[0], second = boxes[1];
      var fields = ["input[type=text]", "input[data-station-id]"];
      fields.forEach(function (selector) {
        var a = first.querySelector(selector), b = second.querySelector(selector);
        var value = a.value; a.value = b.value; b.value = value;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-combobox]");
    for (var i = 0; i < boxes.length; i++) { new Combobox(boxes[i], i); }
    var forms = document.querySelectorAll(".trip-form");
    for (var j = 0; j < forms.length; j++) { setUpSwap(forms[j]); }
  });
})();
