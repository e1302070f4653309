// The chair-side screen's live vitals: one small Chart.js chart per vital sign, with the
// protocol's threshold bands, drawn from the JSON the vitals fragment carries in
// data-chart-data. htmx swaps in a newer fragment when the session changes; the charts are then
// updated in place. No inline script: the page's Content-Security-Policy refuses it.
(function () {
  "use strict";

  var container = document.querySelector("[data-charts]");
  if (!container || typeof window.Chart === "undefined") {
    return;
  }
  var charts = {};
  // Bands: amber where a prescriber decides, red where the protocol holds the dose or alerts.
  var BAND = { prescriber_decision: "rgba(255, 191, 71, 0.28)", hold: "rgba(179, 38, 30, 0.14)", alert: "rgba(179, 38, 30, 0.14)" };
  var EDGE = { prescriber_decision: "#8a5a00", hold: "#b3261e", alert: "#b3261e" };

  var bands = {
    id: "thresholdBands",
    beforeDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea;
      var y = chart.scales.y;
      var x = chart.scales.x;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      (options.thresholds || []).forEach(function (t) {
        // A threshold applies before the dose, after it, or throughout (from/to on the x axis).
        var left = t.from === null ? area.left : Math.max(area.left, x.getPixelForValue(t.from));
        var right = t.to === null ? area.right : Math.min(area.right, x.getPixelForValue(t.to));
        if (right <= left) {
          return;
        }
        var edge = y.getPixelForValue(t.value);
        var top = t.side === "above" ? area.top : Math.max(edge, area.top);
        var bottom = t.side === "above" ? Math.min(edge, area.bottom) : area.bottom;
        if (bottom > top) {
          ctx.fillStyle = BAND[t.action] || BAND.alert;
          ctx.fillRect(left, top, right - left, bottom - top);
        }
        if (edge >= area.top && edge <= area.bottom) {
          ctx.strokeStyle = EDGE[t.action] || EDGE.alert;
          ctx.setLineDash([6, 4]);
          ctx.beginPath();
          ctx.moveTo(left, edge);
          ctx.lineTo(right, edge);
          ctx.stroke();
          ctx.fillStyle = EDGE[t.action] || EDGE.alert;
          ctx.fillText(t.side + " " + t.value, left + 4, t.side === "above" ? edge - 4 : edge + 14);
        }
      });
      ctx.setLineDash([2, 3]);
      ctx.strokeStyle = "#4a5561";
      ctx.fillStyle = "#4a5561";
      (options.marks || []).forEach(function (mark) {
        var at = x.getPixelForValue(mark.x);
        if (at < area.left || at > area.right) {
          return;
        }
        ctx.beginPath();
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
        ctx.stroke();
        var width = ctx.measureText(mark.label).width;
        var textAt = at + 4 + width <= area.right ? at + 4 : at - 4 - width;
        ctx.fillText(mark.label, Math.max(area.left, textAt), area.top + 12);
      });
      ctx.restore();
    }
  };

  function range(vital, marks) {
    var values = vital.thresholds.map(function (t) { return t.value; });
    var xs = marks.map(function (m) { return m.x; });
    return {
      yMin: values.length ? Math.min.apply(null, values) * 0.9 : undefined,
      yMax: values.length ? Math.max.apply(null, values) * 1.1 : undefined,
      xMax: xs.length ? Math.max.apply(null, xs) : undefined
    };
  }

  function describe(vital) {
    var last = vital.points[vital.points.length - 1];
    var latest = last ? "latest " + last.y + " " + vital.unit + " at " + last.at : "no readings yet";
    var limits = vital.thresholds.map(function (t) { return t.label; }).join("; ");
    return vital.label + " chart: " + latest + (limits ? ". Thresholds: " + limits : "") + ".";
  }

  function create(vital, data) {
    var figure = document.createElement("figure");
    figure.className = "chart";
    var box = document.createElement("div");
    box.className = "chart-box";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    var caption = document.createElement("figcaption");
    caption.textContent = vital.label + " (" + vital.unit + ")";
    box.appendChild(canvas);
    figure.appendChild(caption);
    figure.appendChild(box);
    container.appendChild(figure);
    var limits = range(vital, data.marks);
    var chart = new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: vital.label,
          data: vital.points,
          borderColor: "#1d4f91",
          backgroundColor: "#1d4f91",
          pointRadius: 3,
          borderWidth: 2
        }]
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { type: "linear", suggestedMin: 0, suggestedMax: limits.xMax, title: { display: true, text: data.axis } },
          y: { suggestedMin: limits.yMin, suggestedMax: limits.yMax, title: { display: true, text: vital.unit } }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.raw.at + ": " + item.raw.y + " " + vital.unit;
              }
            }
          },
          thresholdBands: { thresholds: vital.thresholds, marks: data.marks }
        }
      },
      plugins: [bands]
    });
    return { chart: chart, canvas: canvas };
  }

  function draw() {
    var source = document.querySelector("[data-chart-data]");
    if (!source) {
      return;
    }
    var data = JSON.parse(source.getAttribute("data-chart-data"));
    data.vitals.forEach(function (vital) {
      var entry = charts[vital.id];
      if (!entry) {
        entry = charts[vital.id] = create(vital, data);
      } else {
        var limits = range(vital, data.marks);
        entry.chart.data.datasets[0].data = vital.points;
        entry.chart.options.scales.x.title.text = data.axis;
        entry.chart.options.scales.x.suggestedMax = limits.xMax;
        entry.chart.options.plugins.thresholdBands = { thresholds: vital.thresholds, marks: data.marks };
        entry.chart.update("none");
      }
      entry.canvas.setAttribute("aria-label", describe(vital));
    });
  }

  // A refresh that fails (network down, server error) leaves the screen looking current while it
  // is not: say so until one succeeds again.
  var problem = document.querySelector("[data-live-problem]");
  function fromLive(event) {
    var ctx = event.detail && event.detail.ctx;
    return ctx && ctx.sourceElement && ctx.sourceElement.closest && ctx.sourceElement.closest("[data-live]");
  }
  function showProblem(event) {
    if (problem && fromLive(event)) {
      problem.hidden = false;
    }
  }
  document.addEventListener("htmx:error", showProblem);
  document.addEventListener("htmx:response:error", showProblem);
  document.addEventListener("htmx:after:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (problem && fromLive(event) && ctx.response && ctx.response.status < 400) {
      problem.hidden = true;
    }
  });
  document.addEventListener("htmx:after:swap", draw);
  draw();
})();
