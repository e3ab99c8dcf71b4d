/* Start Mirador on the manifest named by #viewer[data-manifest]; no inline script (strict CSP). */
document.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("viewer");
  if (!element || !window.Mirador) { return; }
  window.catalogViewer = window.Mirador.viewer({
    id: "viewer",
    windows: [{ manifestId: element.dataset.manifest, thumbnailNavigationPosition: "far-bottom" }],
    window: {
      allowClose: false,
      allowMaximize: false,
      sideBarOpen: window.self === window.top,  /* embedded in a record page: the page image first */
      defaultSideBarPanel: "annotations",
      panels: { info: true, attribution: true, canvas: true, annotations: true, search: true, layers: false },
    },
    annotations: {
      htmlSanitizationRuleSet: "iiif",
      filteredMotivations: ["oa:commenting", "oa:tagging", "sc:painting", "commenting", "tagging", "supplementing"],
    },
    workspace: { showZoomControls: true, type: "mosaic", allowNewWindows: false },
    workspaceControlPanel: { enabled: false },
  });
});
