/* Staff listing pages: small enhancements on top of forms that work without JavaScript.
 *
 * - ID numbers: birth date, age and sex read live from an 18-digit resident ID number
 *   (GB 11643-1999, check character ISO 7064 MOD 11-2), or why it is wrong.
 * - Person / organisation fields, the Art. 3 questions (ground 1 only) and the creditor's
 *   application fields are shown only when they apply.
 * - Spare "bound persons" rows stay hidden until "添加人员" is pressed.
 * - Irreversible acts ask for confirmation; a submitted form cannot be submitted twice.
 */
(function () {
  "use strict";

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function normalise(raw) {
    // Full-width digits and letters (０-９, ｘ) become ASCII; spaces go; x becomes X.
    return raw.replace(/[\uFF01-\uFF5E]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/\s+/g, "").toUpperCase();
  }

  function parseDay(text) {
    var parts = text.split("-");
    return { y: +parts[0], m: +parts[1], d: +parts[2] };
  }

  function ageOn(birth, today) {
    var age = today.y - birth.y;
    if (today.m < birth.m || (today.m === birth.m && today.d < birth.d)) age -= 1;
    return age;
  }

  function validDate(y, m, d) {
    var date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* What a typed number tells: {text, ok} or null for an empty field. */
  function describe(raw, today) {
    var number = normalise(raw);
    if (!number) return null;
    if (!/^[0-9X]+$/.test(number)) return { text: "身份证号码只能由数字和末位的字母X组成", ok: false };
    var legacy = false;
    if (number.length === 15 && /^\d{15}$/.test(number)) {
      number = number.slice(0, 6) + "19" + number.slice(6);
      legacy = true;
    } else if (number.length < 18) {
      return { text: "已输入" + number.length + "位，应为18位", ok: null };
    } else if (number.length > 18) {
      return { text: "身份证号码应为18位，您输入的是" + number.length + "位", ok: false };
    } else {
      if (!/^\d{17}[0-9X]$/.test(number)) return { text: "身份证号码的前17位必须是数字", ok: false };
      var sum = 0;
      for (var i = 0; i < 17; i++) sum += (+number[i]) * WEIGHTS[i];
      if (CHECK[sum % 11] !== number[17]) return { text: "校验位错误", ok: false };
    }
    var y = +number.slice(6, 10), m = +number.slice(10, 12), d = +number.slice(12, 14);
    if (y < 1900 || !validDate(y, m, d)) return { text: "身份证号码中的出生日期不存在，请核对", ok: false };
    var parts = ["出生日期 " + y + "-" + pad(m) + "-" + pad(d)];
    if (today) parts.push(ageOn({ y: y, m: m, d: d }, today) + "周岁");
    parts.push((+number[16]) % 2 ? "男" : "女");
    if (legacy) parts.push("15位旧号码");
    return { text: parts.join(" · "), ok: true };
  }

  function setUpIdNumbers(form) {
    var today = form.dataset.today ? parseDay(form.dataset.today) : null;
    form.querySelectorAll("input[data-id-number]").forEach(function (input) {
      var output = document.getElementById(input.id + "-info");
      if (!output) return;
      function update() {
        var result = describe(input.value, today);
        output.textContent = result ? result.text : "";
        output.classList.toggle("bad", !!result && result.ok === false);
        output.classList.toggle("good", !!result && result.ok === true);
      }
      input.addEventListener("input", update);
      if (input.value) update();
    });
  }

  function show(element, visible) {
    element.hidden = !visible;
  }

  function setUpKind(form) {
    var radios = form.querySelectorAll('input[name="subject.kind"]');
    if (!radios.length) return;
    function update() {
      var checked = form.querySelector('input[name="subject.kind"]:checked');
      var kind = checked ? checked.value : "person";
      form.querySelectorAll("[data-show-kind]").forEach(function (el) {
        show(el, el.dataset.showKind === kind);
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  function setUpGroundQuestions(form) {
    form.querySelectorAll("[data-show-ground]").forEach(function (block) {
      var box = form.querySelector('input[name="grounds"][value="' + block.dataset.showGround + '"]');
      if (!box) return;
      function update() { show(block, box.checked); }
      box.addEventListener("change", update);
      update();
    });
  }

  function setUpShownBy(form) {
    form.querySelectorAll("[data-shown-by]").forEach(function (block) {
      var box = document.getElementById(block.dataset.shownBy);
      if (!box) return;
      function update() { show(block, box.checked); }
      box.addEventListener("change", update);
      update();
    });
    // Editing the debtor's fields ticks "修改被执行人信息" (otherwise the edit would be ignored).
    form.querySelectorAll("[data-auto-tick]").forEach(function (block) {
      var box = document.getElementById(block.dataset.autoTick);
      if (!box) return;
      block.addEventListener("input", function () { box.checked = true; });
      block.addEventListener("change", function () { box.checked = true; });
    });
  }

  function setUpPeople(form) {
    var button = form.querySelector(".add-person");
    if (!button) return;
    var spare = Array.prototype.slice.call(form.querySelectorAll(".person-row[data-spare]"));
    spare.forEach(function (row) { row.hidden = true; });
    function refresh() {
      button.hidden = !spare.some(function (row) { return row.hidden; });
    }
    button.addEventListener("click", function () {
      var next = spare.filter(function (row) { return row.hidden; })[0];
      if (!next) return;
      next.hidden = false;
      var name = next.querySelector('input[name$=".name"]');
      if (name) name.focus();
      refresh();
    });
    refresh();
  }

  function setUpConfirm(form) {
    if (!form.dataset.confirm) return;
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  /* Disable the buttons of a submitted form so a double click sends it once. The pressed button's
   * name and value (e.g. action=submit) would be lost with it, so they are copied first. */
  function setUpOnce(form) {
    if (!form.hasAttribute("data-once")) return;
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) return;
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var submitter = event.submitter;
      if (submitter && submitter.name) {
        var copy = document.createElement("input");
        copy.type = "hidden";
        copy.name = submitter.name;
        copy.value = submitter.value;
        form.appendChild(copy);
      }
      form.querySelectorAll('button[type="submit"], input[type="submit"]').forEach(function (b) {
        b.disabled = true;
      });
      form.classList.add("sending");
    });
  }

  // Coming back with the browser's Back button: the form may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.classList.remove("sending");
      form.querySelectorAll("button[disabled]").forEach(function (b) { b.disabled = false; });
      form.querySelectorAll('input[type="hidden"][name="action"]').forEach(function (i) { i.remove(); });
    });
  });

  function init() {
    document.querySelectorAll("form").forEach(function (form) {
      setUpIdNumbers(form);
      setUpKind(form);
      setUpGroundQuestions(form);
      setUpShownBy(form);
      setUpPeople(form);
      setUpConfirm(form);
      setUpOnce(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
