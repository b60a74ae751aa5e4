/* Parity web UI: metric charts (uPlot) fed by the metric-history endpoint, and small helpers.
 * Each chart asks for about as many buckets as it has pixels (at most 2000); each bucket keeps
 * its min, max and last value, so a one-step spike stays visible. Dragging over a chart asks
 * again for the selected steps only, at full resolution when they are few enough; every chart
 * of the page zooms together and the range goes into the address (xmin, xmax), which opens
 * the page zoomed again. */
(function () {
  "use strict";
  var MAX_BUCKETS = 2000;
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d",
                "#4d7c0f", "#7c3aed", "#b45309"];
  var charts = {};
  window.parityCharts = charts;

  function number(v) { return typeof v === "number" ? v : null; }

  function historyUrl(run, key, buckets, range) {
    var url = "/api/v1/runs/" + encodeURIComponent(run) + "/metrics/" +
      key.split("/").map(encodeURIComponent).join("/") + "/history?buckets=" + buckets;
    if (range) { url += "&min_step=" + range[0] + "&max_step=" + range[1]; }
    return url;
  }

  function load(run, key, buckets, range) {
    return fetch(historyUrl(run, key, buckets, range), {credentials: "same-origin"})
      .then(function (r) {
        if (!r.ok) { throw new Error("history of " + key + ": HTTP " + r.status); }
        return r.json();
      })
      .then(function (doc) {
        var b = doc.buckets;
        return {
          count: doc.count,
          first_steps: b.first_steps, last_steps: b.last_steps,
          min: b.min.map(number), max: b.max.map(number), last: b.last.map(number),
          times: b.last_timestamps.map(function (t) { return t / 1000; })
        };
      });
  }

  function smooth(values, alpha) {
    if (!alpha) { return values; }
    var out = new Array(values.length), s = null;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (v === null) { out[i] = s; continue; }
      s = s === null ? v : alpha * s + (1 - alpha) * v;
      out[i] = s;
    }
    return out;
  }

  function table(series, opts) {
    /* One run's [x, last, min, max], or several runs' [x, last...] joined on x. */
    var xs = function (d) { return opts.x === "time" ? d.times : d.last_steps; };
    if (series.length === 1) {
      var d = series[0];
      return [xs(d), smooth(d.last, opts.smooth), d.min, d.max];
    }
    /* Each run's line, and its buckets' maxima faintly, so an overlay keeps spikes too. */
    return uPlot.join(series.map(function (d) {
      return [xs(d), smooth(d.last, opts.smooth), d.max];
    }));
  }

  function pointsOf(d) {
    /* A series of very few points draws no line: its points are drawn instead. */
    var count = d.last.filter(function (v) { return v !== null; }).length;
    return count < 3 ? {show: true, size: 7} : {};
  }

  function xScale(data, time) {
    /* One point (or one moment) has no span, and uPlot would stretch a time axis over years:
     * a minute either side of a time, one step either side of a step, instead. */
    var xs = data[0].filter(function (v) { return v !== null; });
    var low = Math.min.apply(null, xs), high = Math.max.apply(null, xs);
    if (!xs.length || high > low) { return {time: time}; }
    var pad = time ? 60 : 1;
    return {time: time, auto: false, range: [low - pad, high + pad]};
  }

  function shown(v) { return v === null || v === undefined ? "–" : uPlot.fmtNum(v); }

  function withRange(low, high) {
    /* One legend entry per run: its value, and its bucket's range when that differs. The
     * min and max series keep no entry of their own (app.css hides them). */
    return function (u, v, si, i) {
      if (i === null || i === undefined) { return "–"; }
      var lo = low === null ? v : u.data[low][i], hi = u.data[high][i];
      if (v === null || v === undefined) { return "–"; }
      return lo === hi && hi === v ? shown(v) : shown(v) + " (" + shown(lo) + " … " + shown(hi) + ")";
    };
  }

  function seriesOf(labels, single, series) {
    if (single) {
      return [{}, {label: labels[0], stroke: COLORS[0], width: 1.5, points: pointsOf(series[0]),
                   value: withRange(2, 3)},
              {label: "min", stroke: "rgba(37,99,235,0.35)", width: 1, class: "range"},
              {label: "max", stroke: "rgba(37,99,235,0.35)", width: 1, class: "range"}];
    }
    var out = [{}];
    labels.forEach(function (label, i) {
      var color = COLORS[i % COLORS.length];
      out.push({label: label, stroke: color, width: 1.5, spanGaps: true,
                points: pointsOf(series[i]), value: withRange(null, 2 + 2 * i)});
      out.push({label: label + " max", stroke: color + "55", width: 1, spanGaps: true,
                class: "range"});
    });
    return out;
  }

  function draw(figure, opts, series) {
    var plotBox = figure.querySelector(".plot");
    var runs = figure.dataset.runs.split(",");
    var labels = JSON.parse(figure.dataset.labels);  /* names may hold commas */
    var key = figure.dataset.key;
    var width = Math.max(200, plotBox.clientWidth || 600);
    var state = {series: series, opts: opts};
    var data = table(series, opts);
    var config = {
      width: width, height: 220,
      scales: {x: xScale(data, opts.x === "time"), y: {distr: opts.log ? 3 : 1}},
      /* Times in UTC, as every other time on the pages; room on the right for the last tick. */
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      padding: [null, 28, null, null],
      series: seriesOf(labels, runs.length === 1, series),
      bands: runs.length === 1 ? [{series: [3, 2], fill: "rgba(37,99,235,0.12)"}] : [],
      cursor: {drag: {x: true, y: false, setScale: false}},
      legend: {live: true},
      hooks: {setSelect: [function (u) {
        if (u.select.width < 3) { return; }
        var lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({left: 0, width: 0, top: 0, height: 0}, false);
        zoomGroup(figure.closest(".charts"), lo, hi);
      }]}
    };
    plotBox.innerHTML = "";
    var plot = new uPlot(config, data, plotBox);
    plot.over.addEventListener("dblclick", function () { resetGroup(figure.closest(".charts")); });
    figure.parityState = state;
    charts[runs.length === 1 ? key : key + "@" + runs.join(",")] =
      {plot: plot, data: series[0], series: series, key: key, runs: runs, config: config};
    figure.dataset.drawn = "true";
  }

  function stepsOf(d, opts, lo, hi) {
    var xs = opts.x === "time" ? d.times : d.last_steps, first = null, last = null;
    for (var i = 0; i < xs.length; i++) {
      if (xs[i] >= lo && first === null) { first = d.first_steps[i]; }
      if (xs[i] <= hi) { last = d.last_steps[i]; }
    }
    return first === null || last === null ? null : [first, last];
  }

  function zoom(figure, state, lo, hi) {
    /* As many buckets as allowed: a range of up to 2000 steps comes back point by point. */
    var runs = figure.dataset.runs.split(","), key = figure.dataset.key;
    var buckets = MAX_BUCKETS;
    return Promise.all(runs.map(function (run, i) {
      var range = stepsOf(state.series[i], state.opts, lo, hi);
      return load(run, key, buckets, range || [0, -1]);
    })).then(function (series) {
      charts.zoomed = (charts.zoomed || 0) + 1;
      redraw(figure, state.opts, series);
    });
  }

  function figuresOf(group) {
    return Array.prototype.slice.call(group.querySelectorAll("figure.chart"))
      .filter(function (figure) { return figure.parityState; });
  }

  function zoomGroup(group, lo, hi) {
    /* Three decimals keep a step exact and a time to the millisecond, in a short address. */
    lo = Math.round(lo * 1000) / 1000; hi = Math.round(hi * 1000) / 1000;
    if (!(hi > lo)) { return Promise.resolve(); }
    remember(lo, hi);
    return Promise.all(figuresOf(group).map(function (figure) {
      return zoom(figure, figure.parityState, lo, hi);
    }));
  }

  function resetGroup(group) {
    remember(null, null);
    figuresOf(group).forEach(function (figure) {
      var runs = figure.dataset.runs.split(","), state = figure.parityState;
      Promise.all(runs.map(function (run) {
        return load(run, figure.dataset.key, bucketsFor(figure));
      })).then(function (series) { redraw(figure, state.opts, series); });
    });
  }

  function remember(lo, hi) {
    /* The zoom into the address (without a new history entry) and into the chart options
     * form, so that reloading, sharing or changing the scale keeps it. */
    var url = new URL(window.location.href);
    var form = document.querySelector("form.chart-options");
    ["xmin", "xmax"].forEach(function (name, i) {
      var value = i === 0 ? lo : hi;
      var input = form && form.querySelector("input[name=" + name + "]");
      if (value === null) {
        url.searchParams.delete(name);
        if (input) { input.remove(); }
        return;
      }
      url.searchParams.set(name, String(value));
      if (form && !input) {
        input = document.createElement("input");
        input.type = "hidden"; input.name = name;
        form.appendChild(input);
      }
      if (input) { input.value = String(value); }
    });
    window.history.replaceState(window.history.state, "", url.toString());
  }

  function redraw(figure, opts, series) { draw(figure, opts, series); }

  function bucketsFor(figure) {
    var width = figure.querySelector(".plot").clientWidth || 600;
    return Math.min(MAX_BUCKETS, Math.max(100, Math.round(width)));
  }

  function start() {
    var groups = document.querySelectorAll(".charts");
    groups.forEach(function (group) {
      var opts = {
        x: group.dataset.chartX || "step",
        log: group.dataset.chartLog === "true",
        smooth: parseFloat(group.dataset.chartSmooth || "0") || 0
      };
      var lo = parseFloat(group.dataset.chartXmin), hi = parseFloat(group.dataset.chartXmax);
      var figures = Array.prototype.slice.call(group.querySelectorAll("figure.chart"));
      var started = performance.now();
      /* Every request first, in parallel; then every chart is drawn in one go. */
      Promise.all(figures.map(function (figure) {
        var runs = figure.dataset.runs.split(",");
        return Promise.all(runs.map(function (run) {
          return load(run, figure.dataset.key, bucketsFor(figure));
        }));
      })).then(function (all) {
        figures.forEach(function (figure, i) { draw(figure, opts, all[i]); });
        /* An address with a zoom opens zoomed: the whole series first, which maps the x
         * range to steps, then that range, as a drag would. */
        return hi > lo ? zoomGroup(group, lo, hi) : null;
      }).then(function () {
        window.parityChartsDrawnMs = performance.now() - started;
        window.parityChartsDrawnAt = performance.now();  /* since the navigation started */
        document.body.dataset.chartsDrawn = "true";
      }).catch(function (error) {
        group.insertAdjacentHTML("afterbegin", '<p class="error" role="alert"></p>');
        group.querySelector(".error").textContent = String(error);
      });
    });
  }

  function autosubmit() {
    document.querySelectorAll("form.autosubmit").forEach(function (form) {
      form.addEventListener("change", function (event) {
        /* A zoom is in the x axis's units: a new axis starts unzoomed. */
        if (event.target.name === "x") {
          form.querySelectorAll("input[name=xmin], input[name=xmax]").forEach(function (input) {
            input.remove();
          });
        }
        form.submit();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { autosubmit(); start(); });
})();
