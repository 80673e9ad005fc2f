// Regions of a console page that refresh themselves: every element with an id and
// data-refresh="<seconds>" is fetched again from the same page every so many seconds and
// swapped for its new self. Without JavaScript nothing happens: the page shows when it was
// made beside each region. A refresh waits while the user is typing in a region or the tab
// is hidden, and stops for good on any answer but 200 (logged out, the recall gone).
(function () {
  "use strict";
  var stopped = false;

  function regions(seconds) {
    return Array.prototype.filter.call(
      document.querySelectorAll("[data-refresh][id]"),
      function (region) { return region.getAttribute("data-refresh") === seconds; }
    );
  }

  function edited(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (option) {
        return option.selected !== option.defaultSelected;
      });
    }
    return field.value !== field.defaultValue;
  }

  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
      return true;
    }
    return Array.prototype.some.call(region.querySelectorAll("input, textarea, select"), edited);
  }

  function swap(html, due) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    due.forEach(function (region) {
      var replacement = fresh.getElementById(region.id);
      if (replacement && region.isConnected && !busy(region)) {
        region.replaceWith(document.importNode(replacement, true));
      }
    });
  }

  function refresh(seconds) {
    if (stopped || document.hidden) {
      return;
    }
    var due = regions(seconds).filter(function (region) { return !busy(region); });
    if (!due.length) {
      return;
    }
    fetch(window.location.href, {
      credentials: "same-origin",
      headers: { "X-Refresh": "1" },
      redirect: "manual", // logged out: the way to the login page is not followed
      cache: "no-store"
    }).then(function (answer) {
      if (answer.status !== 200) {
        stopped = true;
        return null;
      }
      return answer.text();
    }).then(function (html) {
      if (html !== null && !stopped) {
        swap(html, due);
      }
    }).catch(function () {
      // The network failed for a moment: the next turn tries again.
    });
  }

  function start() {
    var periods = {};
    document.querySelectorAll("[data-refresh][id]").forEach(function (region) {
      var seconds = parseInt(region.getAttribute("data-refresh"), 10);
      if (seconds >= 5) {
        periods[region.getAttribute("data-refresh")] = seconds;
      }
    });
    Object.keys(periods).forEach(function (key) {
      window.setInterval(function () { refresh(key); }, periods[key] * 1000);
    });
    document.addEventListener("visibilitychange", function () {
      Object.keys(periods).forEach(refresh); // back on the tab: fresh figures at once
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
