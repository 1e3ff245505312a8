// The overview dashboards: the charts (ECharts, served locally) drawn from the page's
// json_script data, the children table's sorting, and the period form's small conveniences.
// No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  var data = source ? JSON.parse(source.textContent) : null;
  var charts = [];
  var large = window.matchMedia("(min-width: 1400px)").matches;
  var font = large ? 16 : 12;

  function chart(id, option) {
    var element = document.getElementById(id);
    if (!element || typeof echarts === "undefined") return null;
    var instance = echarts.init(element, null, { renderer: "canvas" });
    option.textStyle = { fontSize: font };
    option.animation = false;
    instance.setOption(option);
    charts.push(instance);
    return instance;
  }

  function go(params) {
    if (params.data && params.data.url) window.location.href = params.data.url;
  }

  // Green when nothing open is overdue, red when all of it is; grey when nothing is open.
  function rateColour(rate) {
    if (rate === null || rate === undefined) return "#adb5bd";
    var t = Math.max(0, Math.min(1, rate));
    var from = [25, 135, 84], to = [220, 53, 69];
    var mixed = from.map(function (value, index) { return Math.round(value + (to[index] - value) * t); });
    return "rgb(" + mixed.join(",") + ")";
  }

  if (data) {
    var labels = data.labels;
    chart("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28, containLabel: true },
      xAxis: { type: "category", data: data.trend.days, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: labels.calls, type: "line", data: data.trend.calls, smooth: false, showSymbol: data.trend.days.length <= 31 },
        { name: labels.received, type: "line", data: data.trend.received, smooth: false, showSymbol: data.trend.days.length <= 31 },
        { name: labels.closed, type: "line", data: data.trend.closed, smooth: false, showSymbol: data.trend.days.length <= 31 }
      ]
    });
    chart("chart-channels", {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], data: data.channels, label: { formatter: "{b}\n{c}" } }]
    });
    var categories = data.categories.slice().reverse();
    chart("chart-categories", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: categories.map(function (item) { return item.name; }) },
      series: [{ name: labels.received, type: "bar", data: categories.map(function (item) { return item.value; }), label: { show: true, position: "right" } }]
    });
    if (data.children) {
      var rows = data.children.slice().reverse();
      chart("chart-children", {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0 },
        grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rows.map(function (row) { return row.name; }) },
        series: [
          { name: labels.received, type: "bar", data: rows.map(function (row) { return row.received; }) },
          { name: labels.closed, type: "bar", data: rows.map(function (row) { return row.closed; }) },
          { name: labels.overdue, type: "bar", data: rows.map(function (row) { return row.overdue; }), itemStyle: { color: "#dc3545" } }
        ]
      });
    }
    if (data.treemap) {
      var paint = function (node) {
        var painted = {
          name: node.name, value: node.value, url: node.url, rate: node.rate, overdue: node.overdue, open: node.open,
          itemStyle: { color: rateColour(node.rate) }
        };
        if (node.children) painted.children = node.children.map(paint);
        return painted;
      };
      var treemap = chart("chart-treemap", {
        tooltip: {
          formatter: function (info) {
            var node = info.data;
            var rate = node.rate === null || node.rate === undefined ? "—" : (node.rate * 100).toFixed(1) + "%";
            return echarts.format.encodeHTML(node.name) + "<br>" + labels.received + ": " + node.value +
              "<br>" + labels.overdue_rate + ": " + rate + " (" + node.overdue + "/" + node.open + ")";
          }
        },
        series: [{
          type: "treemap", data: data.treemap.map(paint), roam: false, nodeClick: false, leafDepth: 2,
          breadcrumb: { show: false }, label: { show: true, formatter: "{b}" }, upperLabel: { show: true, height: 24 },
          levels: [{ itemStyle: { borderColor: "#fff", borderWidth: 3, gapWidth: 3 } }, { itemStyle: { borderColor: "#fff", gapWidth: 1 } }]
        }]
      });
      if (treemap) treemap.on("click", go);
    }
  }

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () { charts.forEach(function (instance) { instance.resize(); }); }, 100);
  });

  // The children table sorts by any column: numbers from data-value, "—" (no value) last.
  var table = document.getElementById("children-table");
  if (table) {
    table.querySelectorAll("thead .sort").forEach(function (button) {
      button.addEventListener("click", function () {
        var column = Number(button.dataset.sort);
        var text = button.dataset.type === "text";
        var descending = button.getAttribute("aria-sort") !== "descending";
        if (text) descending = button.getAttribute("aria-sort") === "ascending";
        table.querySelectorAll("thead .sort").forEach(function (other) { other.removeAttribute("aria-sort"); });
        button.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).filter(function (row) { return row.dataset.code; });
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
          if (text) return descending ? y.localeCompare(x) : x.localeCompare(y);
          if (x === "" && y === "") return 0;
          if (x === "") return 1;
          if (y === "") return -1;
          return descending ? Number(y) - Number(x) : Number(x) - Number(y);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  // The period form: a preset shows at once; editing a date means a custom range.
  var form = document.getElementById("period-form");
  if (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "period" && target.value !== "custom") {
        form.querySelectorAll("input[type=date]").forEach(function (input) { input.disabled = true; });
        form.submit();
      } else if (target.type === "date") {
        var custom = document.getElementById("period-custom");
        if (custom) custom.checked = true;
      }
    });
  }
})();
