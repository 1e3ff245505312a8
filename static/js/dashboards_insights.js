// The insights pages' charts (ECharts, served locally): the ranking's composite scores, each
// hotspot's daily trend, and the month's most frequent problems. The data comes from the page's
// json_script blocks; no inline scripts, the Content-Security-Policy forbids them. Without this
// script the tables below the charts hold every figure.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var charts = [];
  function chart(element, option) {
    var instance = echarts.init(element, null, { renderer: "svg" });
    instance.setOption(option);
    charts.push(instance);
    return instance;
  }
  window.addEventListener("resize", function () {
    charts.forEach(function (instance) { instance.resize(); });
  });

  // A horizontal bar per unit, best first from the top; last month's score as a faint bar.
  var ranking = data("ranking-data");
  var rankingBox = document.getElementById("ranking-chart");
  if (ranking && rankingBox) {
    rankingBox.style.height = Math.max(240, 28 * ranking.units.length + 60) + "px";
    chart(rankingBox, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [ranking.label, ranking.previous_label] },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 100 },
      yAxis: { type: "category", inverse: true, data: ranking.units },
      series: [
        { name: ranking.label, type: "bar", data: ranking.scores, label: { show: true, position: "right" } },
        { name: ranking.previous_label, type: "bar", data: ranking.previous, itemStyle: { opacity: 0.35 } }
      ]
    });
  }

  // One small line per hotspot: the cases received each day of the window.
  var hotspots = data("hotspot-data");
  if (hotspots) {
    document.querySelectorAll("[data-sparkline]").forEach(function (element) {
      var trend = hotspots.trends[Number(element.getAttribute("data-sparkline"))];
      if (!trend) return;
      element.style.width = "10rem";
      element.style.height = "2.5rem";
      chart(element, {
        animation: false,
        tooltip: { trigger: "axis", formatter: function (items) { return hotspots.label + ": " + items[0].value; } },
        grid: { left: 2, right: 2, top: 4, bottom: 4 },
        xAxis: { type: "category", show: false, data: trend.map(function (_value, index) { return index + 1; }) },
        yAxis: { type: "value", show: false, min: 0 },
        series: [{ type: "line", data: trend, symbol: "none", areaStyle: { opacity: 0.2 } }]
      });
    });
  }

  // The month's top problems beside last month's counts.
  var problems = data("problems-data");
  var problemsBox = document.getElementById("problems-chart");
  if (problems && problemsBox) {
    problemsBox.style.height = Math.max(240, 32 * problems.names.length + 60) + "px";
    chart(problemsBox, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [problems.label, problems.previous_label] },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: problems.names },
      series: [
        { name: problems.label, type: "bar", data: problems.counts, label: { show: true, position: "right" } },
        { name: problems.previous_label, type: "bar", data: problems.previous, itemStyle: { opacity: 0.35 } }
      ]
    });
  }
})();
