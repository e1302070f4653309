// Score trends over time (templates/_trend.html): a line per canvas[data-trend], with the
// instrument's reference lines (e.g. remission) and markers (e.g. first response). Time runs on
// a linear axis of days since the first score, so no date adapter library is needed.
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }
  var DAY_MS = 86400000;

  var references = {
    id: "trendReferences",
    afterDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea;
      var x = chart.scales.x;
      var y = chart.scales.y;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.strokeStyle = "#8a5a00";
      ctx.fillStyle = "#8a5a00";
      ctx.setLineDash([6, 4]);
      (options.lines || []).forEach(function (line) {
        var at = y.getPixelForValue(line.y);
        if (at < area.top || at > area.bottom) {
          return;
        }
        ctx.beginPath();
        ctx.moveTo(area.left, at);
        ctx.lineTo(area.right, at);
        ctx.stroke();
        ctx.fillText(line.label, area.left + 4, at - 4);
      });
      ctx.strokeStyle = "#1b6e3a";
      ctx.fillStyle = "#1b6e3a";
      ctx.setLineDash([2, 3]);
      (options.marks || []).forEach(function (mark, index) {
        var at = x.getPixelForValue(mark.day);
        if (at < area.left || at > area.right) {
          return;
        }
        ctx.beginPath();
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
        ctx.stroke();
        var width = ctx.measureText(mark.label).width;
        // Each mark's label on its own line, so marks close together stay readable.
        var top = area.top + 12 + 14 * index;
        ctx.fillText(mark.label, at + 4 + width <= area.right ? at + 4 : at - 4 - width, top);
      });
      ctx.restore();
    }
  };

  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-trend"));
    var start = data.points.length ? Date.parse(data.points[0].x) : 0;
    function day(iso) {
      return Math.round(((Date.parse(iso) - start) / DAY_MS) * 10) / 10;
    }
    var points = data.points.map(function (p) {
      return { x: day(p.x), y: p.y, at: p.x.slice(0, 10) };
    });
    var marks = data.marks.map(function (m) { return { day: day(m.x), label: m.label }; });
    canvas.chart = new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: data.title,
          data: points,
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
          x: { type: "linear", suggestedMin: 0, title: { display: true, text: "days since the first score" } },
          y: { min: data.y_min, suggestedMax: data.y_max === null ? undefined : data.y_max, title: { display: true, text: data.axis } }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) { return item.raw.at + ": " + item.raw.y; }
            }
          },
          trendReferences: { lines: data.lines, marks: marks }
        }
      },
      plugins: [references]
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-trend]").forEach(function (canvas) {
      if (!canvas.chart) {
        draw(canvas);
      }
    });
  }
  document.addEventListener("htmx:after:swap", drawAll);
  drawAll();
})();
