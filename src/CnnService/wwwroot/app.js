// CnnService explainer page: draw or pick an image, send it to POST /v1/models/{name}/explain, and show
// what every layer of the network computed for it. Plain ES module, no build step, no dependencies.
//
// Flow: start() loads the model list → selectModel() loads one model's details and samples, builds one
// row per layer and explains the first sample → every new input (drawing, upload, sample) goes through
// explain(), which renders the prediction and fills the layer rows with activation images.
//
// <body data-state> tells tests (and curious readers) where the page is: "loading", "busy" (an input
// changed and its explanation is pending), "ready" (the current input's explanation is on screen),
// "idle" (nothing to explain, e.g. after Clear), "empty" (no models served) or "error".

const TOP_K = 5;
const MAP_SIZE = 32;  // pixels a side the service draws each activation map at (whole pixels per value)
const DEBOUNCE_MS = 150;          // wait this long after the last stroke movement before asking the server
const MAX_LABELLED_VALUES = 20;   // longer vectors are drawn as a strip of coloured cells instead of bars
const STRIP_MIN_COLUMNS = 64;     // cells per row in such a strip; more for very long vectors
const RAW_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/bmp'];

// The service's colour scales, so legends and the vectors drawn here match its activation images.
const COLOURS = {
  negative: [0x21, 0x66, 0xac],
  zero: [0xf7, 0xf7, 0xf7],
  positive: [0xb2, 0x18, 0x2b],
  high: [0x08, 0x30, 0x6b],
};

const $ = (selector) => document.querySelector(selector);
const ui = {
  modelSelect: $('#model-select'),
  modelInfo: $('#model-info'),
  error: $('#error'),
  notice: $('#notice'),
  canvas: $('#draw-canvas'),
  inkHint: $('#ink-hint'),
  clearButton: $('#clear-button'),
  fileInput: $('#file-input'),
  dropZone: $('#drop-zone'),
  samples: $('#samples'),
  topLabel: $('#top-label'),
  prediction: $('#prediction'),
  layers: $('#layers'),
  predictionArea: $('#prediction-area'),
  zoomDialog: $('#zoom-dialog'),
  zoomTitle: $('#zoom-title'),
  zoomImage: $('#zoom-image'),
  zoomLegend: $('#zoom-legend'),
};
const ctx = ui.canvas.getContext('2d', { willReadFrequently: true });  // the border is read back per input
const numberFormat = new Intl.NumberFormat('en');

const state = {
  model: null,              // GET /v1/models/{name} of the selected model
  modelRequest: 0,          // increases per model switch, so a slow answer for an older pick is dropped
  layerViews: new Map(),    // layer index → the DOM pieces of its row
  inputView: null,          // the row showing the network's input
  inputId: 0,               // increases per new input, so work for a replaced input is dropped
  paper: '#ffffff',         // the canvas colour after Clear
  ink: '#000000',           // the stroke colour: whichever of black and white stands out on the canvas
  lastPoint: null,          // canvas point of the stroke in progress, null when not drawing
  debounceTimer: 0,
  explainController: null,  // aborts the request of an input that has since been replaced
};

// ---------------------------------------------------------------------------------------------------
// Talking to the API. Every failure becomes an ApiError carrying a problem+json shaped object.

class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }
}

async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError({ title: 'The service could not be reached', detail: error.message });
  }
  if (!response.ok) throw new ApiError(await readProblem(response));
  return response;
}

async function readProblem(response) {
  // The service answers errors as application/problem+json; a proxy in between might not, so fall back
  // to the status line rather than failing to report the failure.
  const body = await response.json().catch(() => ({}));
  return {
    title: body.title || response.statusText || 'Request failed',
    detail: body.detail || '',
    status: body.status || response.status,
  };
}

const getJson = async (url, options) => (await request(url, options)).json();
const modelUrl = (name) => `/v1/models/${encodeURIComponent(name)}`;

// The server decodes the raw body only for a few image types; any other file goes as multipart, where
// it sniffs the bytes itself (and explains clearly when it cannot read them).
function explainBody(blob) {
  if (RAW_IMAGE_TYPES.includes(blob.type)) return { body: blob, headers: { 'Content-Type': blob.type } };
  const form = new FormData();
  form.append('image', blob, blob.name || 'image');
  return { body: form };
}

// ---------------------------------------------------------------------------------------------------
// Page state, errors and notices.

// While an explanation is pending, the panels it will fill say so (aria-busy; style.css dims them and
// shows a spinner), so a slow answer never looks like a page that ignored the input.
function setState(name) {
  document.body.dataset.state = name;
  const busy = String(name === 'busy' || name === 'loading');
  for (const panel of [ui.predictionArea, ui.layers]) panel.setAttribute('aria-busy', busy);
}

function showError(error) {
  const problem = error.problem ?? { title: 'Something went wrong', detail: error.message };
  const heading = document.createElement('strong');
  heading.textContent = problem.status ? `${problem.title} (${problem.status})` : problem.title;
  ui.error.replaceChildren(heading, problem.detail ? ` ${problem.detail}` : '');
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.replaceChildren();
}

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

// ---------------------------------------------------------------------------------------------------
// Models: the picker, the model's details, and the ?model= query that makes links reproducible.

async function start() {
  bindEvents();
  let list, settings;
  try {
    // The page's settings only choose the first model: without them the page still works.
    [list, settings] = await Promise.all([getJson('/v1/models'), getJson('/page-settings.json').catch(() => ({}))]);
  } catch (error) {
    showError(error);
    setState('error');
    return;
  }

  const models = list.models ?? [];
  if (models.length === 0) {
    showNotice('No models are being served yet. Train or publish a model, then reload this page.');
    ui.layers.replaceChildren();
    setState('empty');
    return;
  }

  ui.modelSelect.replaceChildren(...models.map(modelOption));
  ui.modelSelect.disabled = false;
  await selectModel(initialModel(models, settings.default_model));
}

function modelOption(model) {
  const option = new Option(model.name, model.name);
  if (model.default_version == null) option.textContent += ' (no version available)';
  return option;
}

// The model named in the URL if it is served, else the configured default (Explain:DefaultModel) if it
// has a working version, else the first one that has one.
function initialModel(models, defaultModel) {
  const wanted = new URLSearchParams(location.search).get('model');
  if (wanted && models.some((m) => m.name === wanted)) return wanted;
  if (wanted) showNotice(`There is no model "${wanted}" here, so the page shows another one.`);
  const working = models.filter((m) => m.default_version != null);
  return (working.find((m) => m.name === defaultModel) ?? working[0] ?? models[0]).name;
}

function rememberModelInUrl(name) {
  const url = new URL(location.href);
  url.searchParams.set('model', name);
  history.replaceState(null, '', url);
}

async function selectModel(name) {
  const requestId = ++state.modelRequest;
  beginInput();
  ui.modelSelect.value = name;
  rememberModelInUrl(name);

  let details, samples;
  try {
    [details, samples] = await Promise.all([
      getJson(modelUrl(name)),
      getJson(`${modelUrl(name)}/samples`),
    ]);
  } catch (error) {
    if (requestId !== state.modelRequest) return;
    forgetModel();
    showError(error);
    setState('error');
    return;
  }
  if (requestId !== state.modelRequest) return;  // the user picked another model meanwhile

  clearError();
  applyDetails(details);
  choosePaper(details.input);
  clearPrediction();
  renderSamples(samples.samples ?? []);
  const first = ui.samples.querySelector('button');
  if (first) {
    first.click();  // so the page never starts empty
  } else {
    clearInput();
  }
}

// After a failed switch nothing of the previous model may stay usable: drawing would explain with it.
function forgetModel() {
  state.model = null;
  for (const part of [ui.modelInfo, ui.samples, ui.layers]) part.replaceChildren();
  clearPrediction();
}

function applyDetails(details) {
  state.model = details;
  renderModelInfo(details);
  renderLayerRows(details);
}

function renderModelInfo(details) {
  const accuracy = details.metrics?.test_accuracy;
  const entries = [
    ['Version', `${details.version}${details.is_default ? ' (default)' : ''}`],
    ['Test accuracy', accuracy == null ? 'not measured' : `${(accuracy * 100).toFixed(2)}%`],
    ['Parameters', numberFormat.format(details.total_parameters)],
    ['Classes', details.labels.join(', ')],
    ['Description', details.description || '—'],
  ];
  ui.modelInfo.replaceChildren(...entries.map(([term, value]) => {
    const row = document.createElement('div');
    row.className = `info-${term.toLowerCase().replace(/\s+/g, '-')}`;
    row.append(element('dt', term), element('dd', value));
    return row;
  }));
}

// ---------------------------------------------------------------------------------------------------
// The drawing canvas. Its internal size stays 280×280 whatever its CSS size, so pointer positions are
// scaled from CSS pixels to canvas pixels.

// MNIST preprocessing on the server inverts by the border colour and centres the digit, so black ink
// on white paper is the natural way to draw. A grayscale model without preprocessing sees the image
// exactly as its dataset shows things (Fashion-MNIST: a light object on a black background), so the
// paper matches that instead; dark-on-light drawings would show it something it never saw in training.
function choosePaper(input) {
  const unprocessed = !input.preprocess || input.preprocess === 'none';
  const lightOnDark = input.channels === 1 && unprocessed;
  state.paper = lightOnDark ? '#000000' : '#ffffff';
  ui.inkHint.textContent = lightOnDark
    ? 'Draw in white on black: this model sees images exactly like its training pictures.'
    : input.preprocess === 'mnist'
      ? 'Draw a digit. The service inverts and centres it the way the MNIST digits were prepared.'
      : 'Draw on the image, or upload a photo.';
  paintBackground();
}

function paintBackground() {
  ctx.fillStyle = state.paper;
  ctx.fillRect(0, 0, ui.canvas.width, ui.canvas.height);
  state.ink = contrastingInk();
}

// Black or white, whichever stands out against the canvas border, so strokes stay visible over a
// light-on-dark sample as well as over a photo on white.
function contrastingInk() {
  const { width, height } = ui.canvas;
  const edges = [
    ctx.getImageData(0, 0, width, 1),
    ctx.getImageData(0, height - 1, width, 1),
    ctx.getImageData(0, 0, 1, height),
    ctx.getImageData(width - 1, 0, 1, height),
  ];
  let sum = 0;
  let count = 0;
  for (const { data } of edges) {
    for (let i = 0; i < data.length; i += 4) {
      sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      count++;
    }
  }
  return sum / count < 128 ? '#ffffff' : '#000000';
}

function canvasPoint(event) {
  const rect = ui.canvas.getBoundingClientRect();
  return {
    x: (event.clientX - rect.left) * (ui.canvas.width / rect.width),
    y: (event.clientY - rect.top) * (ui.canvas.height / rect.height),
  };
}

function strokeWidth() {
  return ui.canvas.width / 12;  // about as thick, relative to the image, as the pen strokes in MNIST
}

function drawDot(point) {
  ctx.fillStyle = state.ink;
  ctx.beginPath();
  ctx.arc(point.x, point.y, strokeWidth() / 2, 0, Math.PI * 2);
  ctx.fill();
}

function drawSegment(from, to) {
  ctx.strokeStyle = state.ink;
  ctx.lineWidth = strokeWidth();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
}

function onPointerDown(event) {
  if (!state.model || (event.pointerType === 'mouse' && event.button !== 0)) return;
  event.preventDefault();
  ui.canvas.setPointerCapture(event.pointerId);  // keep the stroke even when it leaves the canvas
  beginInput();
  state.lastPoint = canvasPoint(event);
  drawDot(state.lastPoint);  // a tap alone leaves a mark
}

function onPointerMove(event) {
  if (!state.lastPoint) return;
  // Coalesced events carry the movements the browser merged into this one: without them fast strokes
  // become visibly straight segments.
  const coalesced = event.getCoalescedEvents?.() ?? [];
  for (const e of coalesced.length ? coalesced : [event]) {
    const point = canvasPoint(e);
    drawSegment(state.lastPoint, point);
    state.lastPoint = point;
  }
  clearTimeout(state.debounceTimer);
  state.debounceTimer = setTimeout(explainCanvas, DEBOUNCE_MS);
}

function onPointerUp() {
  if (!state.lastPoint) return;
  state.lastPoint = null;
  explainCanvas();
}

function explainCanvas() {
  ui.canvas.toBlob((blob) => explain(blob), 'image/png');
}

// Draws an image onto the canvas, scaled to fit, so the user sees the current input and can draw over it.
async function showOnCanvas(blob) {
  paintBackground();
  const bitmap = await createImageBitmap(blob);
  const scale = Math.min(ui.canvas.width / bitmap.width, ui.canvas.height / bitmap.height);
  const width = bitmap.width * scale;
  const height = bitmap.height * scale;
  // Enlarged dataset images keep their hard pixel edges (that is what the model sees); shrunk photos are smoothed.
  ctx.imageSmoothingEnabled = scale < 1;
  ctx.drawImage(bitmap, (ui.canvas.width - width) / 2, (ui.canvas.height - height) / 2, width, height);
  bitmap.close();
  state.ink = contrastingInk();
}

// Every new input (a stroke, a file, a sample, Clear, another model) makes the pending work for the
// previous one obsolete.
function beginInput(sampleButton = null) {
  cancelExplain();
  markSample(sampleButton);
  setState('busy');
  return ++state.inputId;
}

// Uses an image file or sample as the input: the original bytes go to the server (not the canvas copy),
// so the model sees exactly that file.
async function useImage(blob, inputId) {
  try {
    await showOnCanvas(blob);
  } catch {
    paintBackground();  // the browser cannot display it; the server may still read it, or will say why not
  }
  if (inputId === state.inputId) await explain(blob);
}

function clearInput() {
  beginInput();
  paintBackground();
  clearPrediction();
  renderLayerRows(state.model);
  setState('idle');
}

// ---------------------------------------------------------------------------------------------------
// Uploads, drag and drop, samples.

function firstImageFile(files) {
  const list = [...files];
  return list.find((f) => f.type.startsWith('image/')) ?? list[0];
}

function onFileChosen() {
  const file = firstImageFile(ui.fileInput.files);
  ui.fileInput.value = '';  // so choosing the same file again still counts as a change
  if (file && state.model) useImage(file, beginInput());
}

function onDragOver(event) {
  if (!event.dataTransfer.types.includes('Files')) return;
  event.preventDefault();  // without this the browser would open the dropped file instead
  ui.dropZone.classList.add('dragging');
}

function onDrop(event) {
  event.preventDefault();
  ui.dropZone.classList.remove('dragging');
  const file = firstImageFile(event.dataTransfer.files);
  if (file && state.model) useImage(file, beginInput());
}

function renderSamples(samples) {
  ui.samples.replaceChildren(...samples.map((sample) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sample';
    button.title = sample.name;
    button.setAttribute('aria-pressed', 'false');
    const image = new Image();
    image.src = sample.url;
    image.alt = sample.label;
    button.append(image);
    button.addEventListener('click', () => useSample(sample, button));
    return button;
  }));
  if (samples.length === 0) ui.samples.append(element('p', 'This model has no sample images.', 'hint'));
}

async function useSample(sample, button) {
  const inputId = beginInput(button);
  let blob;
  try {
    blob = await (await request(sample.url)).blob();
  } catch (error) {
    showError(error);
    setState('error');
    return;
  }
  if (inputId === state.inputId) await useImage(blob, inputId);
}

function markSample(button) {
  for (const b of ui.samples.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
}

// ---------------------------------------------------------------------------------------------------
// Explaining an input: one request, then the prediction and every layer's activations.

function cancelExplain() {
  clearTimeout(state.debounceTimer);
  state.explainController?.abort();
  state.explainController = null;
}

async function explain(blob) {
  cancelExplain();  // only the newest input matters
  const controller = new AbortController();
  state.explainController = controller;
  setState('busy');

  try {
    // Small maps (a 28x28 map at one pixel a value) keep the answer light while drawing; CSS scales them up, pixelated.
    const url = `${modelUrl(state.model.name)}/explain?top_k=${TOP_K}&size=${MAP_SIZE}`;
    const result = await getJson(url, { method: 'POST', signal: controller.signal, ...explainBody(blob) });
    if (result.version !== state.model.version) {
      // The service swapped in another version since the details were loaded; its layers may differ.
      applyDetails(await getJson(modelUrl(state.model.name), { signal: controller.signal }));
    }
    await renderExplanation(result);
    if (controller.signal.aborted) return;  // a newer input arrived while the images were decoding
    clearError();
    setState('ready');
  } catch (error) {
    if (error.name === 'AbortError') return;
    showError(error);
    setState('error');
  } finally {
    if (state.explainController === controller) state.explainController = null;
  }
}

async function renderExplanation(result) {
  renderPrediction(result.prediction);
  const updated = renderNetworkInput(result.input);
  for (const layer of result.layers) {
    const view = state.layerViews.get(layer.index);
    if (view) updated.push(...renderActivations(view, layer));
  }
  // "ready" should mean the pictures are really there, not just their <img> elements.
  await Promise.all(updated.map((image) => image.decode().catch(() => {})));
}

// ---------------------------------------------------------------------------------------------------
// The prediction: the top label large, and the top classes as bars.

function renderPrediction(prediction) {
  ui.topLabel.textContent = prediction.top[0]?.label ?? '';
  ui.prediction.replaceChildren(...prediction.top.map((entry) => {
    const percent = entry.probability * 100;
    return barRow(entry.label, percent < 0.1 ? '<0.1%' : `${percent.toFixed(1)}%`, {
      start: 0, width: entry.probability, colour: 'var(--accent)',
    });
  }));
}

function clearPrediction() {
  ui.topLabel.textContent = '';
  ui.prediction.replaceChildren();
}

// One labelled horizontal bar. `start` and `width` are fractions of the track.
function barRow(label, valueText, { start, width, colour }) {
  const row = document.createElement('li');
  row.className = 'bar-row';
  const track = element('span', '', 'bar-track');
  const fill = element('span', '', 'bar-fill');
  fill.style.left = `${start * 100}%`;
  fill.style.width = `${width * 100}%`;
  fill.style.background = colour;
  track.append(fill);
  row.append(element('span', label, 'bar-label'), track, element('span', valueText, 'bar-value'));
  return row;
}

// ---------------------------------------------------------------------------------------------------
// The network view: one row per layer, built from the model details, filled in per input.

const LAYER_NOTES = [
  [/conv/, (layer) => `${layer.output_shape[0]} learned filters slide over the previous maps; each map below lights up where one filter's pattern appears.`],
  [/relu/, () => 'Replaces every negative value with zero, so only the patterns that were found remain.'],
  [/max.*pool|pool.*max/, () => 'Keeps the strongest value of each small window: the maps shrink, the strong responses survive.'],
  [/pool/, () => 'Averages small windows: the maps shrink and get smoother.'],
  [/norm/, () => 'Rescales the values to a steady range, which made training easier.'],
  [/dropout/, () => 'Switches random values off while training; here it passes everything through.'],
  [/flatten/, () => 'Lays all the maps out in one long list of numbers, so dense layers can read them.'],
  [/dense|linear/, (layer) => `Each of the ${layer.output_shape[0]} outputs is a weighted sum of all the inputs.`],
  [/softmax/, () => 'Turns the scores into probabilities that add up to 100%.'],
];

function layerNote(layer) {
  const match = LAYER_NOTES.find(([pattern]) => pattern.test(layer.type.toLowerCase()));
  return match ? match[1](layer) : '';
}

const layerName = (layer) => layer.name ?? `layer ${layer.index} (${layer.type})`;
const shapeText = (shape) => shape.join('×');

function renderLayerRows(details) {
  state.layerViews.clear();
  state.inputView = inputRow(details.input);
  const rows = [state.inputView.row];
  for (const layer of details.layers) {
    const view = layerRow(layer);
    state.layerViews.set(layer.index, view);
    rows.push(view.row);
  }
  ui.layers.replaceChildren(...rows);
}

function inputRow(input) {
  const steps = [`resized to ${input.height}×${input.width}`];
  if (input.channels === 1) steps.push('in grayscale');
  if (input.preprocess === 'mnist') steps.push('inverted to a light digit on black and centred like the MNIST digits');
  const row = rowSkeleton({
    heading: 'Input',
    meta: [shapeText([input.channels, input.height, input.width]), 'after preprocessing'],
    note: `Your image as the network receives it: ${steps.join(', ')}.`,
  });
  row.row.classList.add('layer-input');
  return row;
}

function layerRow(layer) {
  const heading = layer.name ? `${layer.index} · ${layer.name}` : `${layer.index} · ${layer.type}`;
  const meta = [layer.type, shapeText(layer.output_shape), `${numberFormat.format(layer.parameters)} parameters`];
  const view = rowSkeleton({ heading, meta, note: layerNote(layer) });
  view.row.dataset.index = layer.index;
  view.row.dataset.type = layer.type;
  return view;
}

function rowSkeleton({ heading, meta, note }) {
  const row = element('article', '', 'layer');
  const about = element('div', '', 'layer-about');
  about.append(element('h3', heading), element('p', meta.join(' · '), 'layer-meta'));
  if (note) about.append(element('p', note, 'layer-note'));
  const legend = element('div', '', 'legend-slot');
  about.append(legend);
  const visuals = element('div', '', 'layer-visuals');
  const activations = element('div', '', 'activations');
  visuals.append(activations);
  row.append(about, visuals);
  return { row, legend, visuals, activations, filters: null };
}

// These render functions return the images whose picture changed, so the caller can wait for their decoding.
function renderNetworkInput(input) {
  return syncImages(state.inputView.activations, [dataUrl(input.image)], () => 'The input as the model sees it', 'input-image');
}

function renderActivations(view, layer) {
  view.legend.replaceChildren(scaleLegend(layer));
  const name = layerName(layer);
  const updated = [];
  if (layer.maps) {
    updated.push(...syncImages(view.activations, layer.maps.map(dataUrl), (i) => `${name} channel ${i}`, 'activation-map', true));
  } else if (layer.values) {
    updated.push(...renderValues(view, layer));
  }
  if (layer.filters_url) updated.push(...renderFilters(view, layer));
  return updated;
}

// Keeps one button+image per picture and only swaps the sources, so live updates while drawing do not
// rebuild hundreds of elements or make the maps flicker.
function syncImages(container, sources, altFor, className, hasLegend = false) {
  let buttons = [...container.querySelectorAll(':scope > button.zoomable')];
  if (buttons.length !== sources.length) {
    buttons = sources.map(() => zoomButton(className, hasLegend));
    container.replaceChildren(...buttons);
  }
  return sources.flatMap((src, i) => setImage(buttons[i].firstElementChild, src, altFor(i)));
}

function setImage(image, src, alt) {
  image.alt = alt;
  if (image.getAttribute('src') === src) return [];
  image.src = src;
  return [image];
}

function zoomButton(className, hasLegend) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'zoomable';
  if (hasLegend) button.dataset.legend = '';
  const image = new Image();
  image.className = className;
  button.append(image);
  return button;
}

const dataUrl = (base64) => `data:image/png;base64,${base64}`;

// Vector layers (dense, softmax, flattened maps): labelled bars when short, a strip of coloured cells when long.
function renderValues(view, layer) {
  const { values } = layer;
  if (values.length <= MAX_LABELLED_VALUES) {
    const labels = valueLabels(layer);
    const list = element('ol', '', 'value-bars');
    list.setAttribute('aria-label', `${layerName(layer)} values`);
    list.append(...values.map((v, i) => barRow(labels[i], formatValue(v, layer), valueBar(v, layer))));
    view.activations.replaceChildren(list);
    return [];
  }
  const columns = stripColumns(values.length);
  const alt = `${layerName(layer)}: ${values.length} values as coloured cells, ${columns} per row`;
  const updated = syncImages(view.activations, [valueStrip(values, columns, layer)], () => alt, 'value-strip', true);
  // Whole CSS pixels per cell keep the cells evenly sized; wide strips get smaller cells.
  view.activations.querySelector('.value-strip').style.width = `${columns * (columns > STRIP_MIN_COLUMNS ? 3 : 5)}px`;
  return updated;
}

// About four times as wide as tall, so a flattened stack of maps (thousands of values) stays a compact block.
function stripColumns(count) {
  return Math.min(count, Math.max(STRIP_MIN_COLUMNS, Math.ceil(Math.sqrt(count * 4))));
}

// The final dense layer and the softmax after it have one value per class; earlier ones just have numbered units.
function valueLabels(layer) {
  const { labels, layers } = state.model;
  const lastDense = Math.max(-1, ...layers.filter((l) => /dense|linear/.test(l.type)).map((l) => l.index));
  const perClass = layer.values.length === labels.length && layer.index >= lastDense;
  return perClass ? labels : layer.values.map((_, i) => String(i));
}

function formatValue(value, layer) {
  if (/softmax/.test(layer.type)) return `${(value * 100).toFixed(1)}%`;
  return formatNumber(value);
}

function formatNumber(value) {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits).replace('-', '−');
}

// Signed values grow left or right from a centre line; non-negative ones grow from the left edge.
function valueBar(value, layer) {
  const colour = cssColour(colourFor(value, layer));
  if (layer.scale === 'diverging') {
    const half = Math.min(1, Math.abs(value) / divergingLimit(layer)) / 2;
    return { start: value < 0 ? 0.5 - half : 0.5, width: half, colour };
  }
  return { start: 0, width: layer.max > 0 ? Math.min(1, value / layer.max) : 0, colour };
}

function valueStrip(values, columns, layer) {
  const strip = document.createElement('canvas');
  strip.width = columns;
  strip.height = Math.ceil(values.length / columns);
  const stripCtx = strip.getContext('2d');
  const pixels = stripCtx.createImageData(strip.width, strip.height);
  pixels.data.fill(255);  // cells past the last value stay white
  values.forEach((value, i) => {
    pixels.data.set(colourFor(value, layer), i * 4);
  });
  stripCtx.putImageData(pixels, 0, 0);
  return strip.toDataURL('image/png');
}

// A conv layer's learned kernels. The first conv layer shows them open (its filters are the easiest to
// read: edge and blob detectors on the raw pixels); deeper ones sit behind a disclosure to save space.
function renderFilters(view, layer) {
  if (!view.filters) {
    const firstConv = layer.index === Math.min(...state.model.layers.filter((l) => l.type === 'conv2d').map((l) => l.index));
    const holder = firstConv ? element('figure', '', 'filters-figure') : element('details', '', 'filters-figure');
    const previous = state.model.layers[layer.index - 1];
    const inputs = previous ? previous.output_shape[0] : state.model.input.channels;
    const layout = inputs === 1 ? 'one tile each' : inputs === 3 ? 'one colour tile each' : 'one framed block per filter, one tile per input channel';
    const caption = `Learned filters: ${layer.output_shape[0]} kernels, ${layout}`;
    holder.append(firstConv ? element('figcaption', caption) : element('summary', caption));
    const button = zoomButton('filters', false);
    button.firstElementChild.addEventListener('load', (e) => fitPixelated(e.target, 240, 480));
    holder.append(button);
    view.visuals.append(holder);
    view.filters = button.firstElementChild;
  }
  return setImage(view.filters, layer.filters_url, `${layerName(layer)} learned filters`);
}

// Shows a small mosaic enlarged by a whole factor (sharp pixels), or shrinks a big one to fit.
function fitPixelated(image, maxWidth, maxHeight) {
  const fit = Math.min(maxWidth / image.naturalWidth, maxHeight / image.naturalHeight);
  const scale = fit >= 1 ? Math.floor(fit) : fit;
  image.style.width = `${image.naturalWidth * scale}px`;
  image.style.height = `${image.naturalHeight * scale}px`;
}

// ---------------------------------------------------------------------------------------------------
// Colour scales: the same as the service's activation images.

const divergingLimit = (layer) => Math.max(Math.abs(layer.min), Math.abs(layer.max)) || 1;

function colourFor(value, layer) {
  if (layer.scale === 'diverging') {
    const t = Math.max(-1, Math.min(1, value / divergingLimit(layer)));
    return mix(COLOURS.zero, t < 0 ? COLOURS.negative : COLOURS.positive, Math.abs(t));
  }
  const t = layer.max > 0 ? Math.max(0, Math.min(1, value / layer.max)) : 0;
  return mix(COLOURS.zero, COLOURS.high, t);
}

function mix(from, to, t) {
  return [...from.map((c, i) => Math.round(c + (to[i] - c) * t)), 255];
}

const cssColour = ([r, g, b]) => `rgb(${r} ${g} ${b})`;

function scaleLegend(layer) {
  const legend = element('div', '', 'scale-legend');
  const diverging = layer.scale === 'diverging';
  const limit = diverging ? divergingLimit(layer) : layer.max;
  const bar = element('div', '', `scale-bar ${diverging ? 'diverging' : 'sequential'}`);
  const ends = element('div', '', 'scale-ends');
  ends.append(
    element('span', diverging ? formatNumber(-limit) : '0'),
    ...(diverging ? [element('span', '0')] : []),
    element('span', formatNumber(limit)),
  );
  const range = element('p', `min ${formatNumber(layer.min)} · max ${formatNumber(layer.max)}`, 'scale-range');
  legend.append(bar, ends, range);
  return legend;
}

// ---------------------------------------------------------------------------------------------------
// Enlarging a picture.

function onLayersClick(event) {
  const button = event.target.closest('button.zoomable');
  if (!button) return;
  const image = button.firstElementChild;
  const legend = 'legend' in button.dataset ? button.closest('.layer')?.querySelector('.scale-legend') : null;
  ui.zoomTitle.textContent = image.alt;
  ui.zoomImage.src = image.src;
  ui.zoomImage.alt = image.alt;
  ui.zoomLegend.replaceChildren(...(legend ? [legend.cloneNode(true)] : []));
  ui.zoomDialog.showModal();  // Escape closes it and focus returns to the button
}

// A click on the backdrop closes the dialog. The backdrop belongs to the <dialog> element itself, so
// tell it from the dialog's own padding by position.
function onDialogClick(event) {
  if (event.target !== ui.zoomDialog) return;
  const box = ui.zoomDialog.getBoundingClientRect();
  const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
  if (!inside) ui.zoomDialog.close();
}

// ---------------------------------------------------------------------------------------------------

function element(tag, text = '', className = '') {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function bindEvents() {
  ui.modelSelect.addEventListener('change', () => selectModel(ui.modelSelect.value));
  ui.canvas.addEventListener('pointerdown', onPointerDown);
  ui.canvas.addEventListener('pointermove', onPointerMove);
  ui.canvas.addEventListener('pointerup', onPointerUp);
  ui.canvas.addEventListener('pointercancel', onPointerUp);
  ui.clearButton.addEventListener('click', () => state.model && clearInput());
  ui.fileInput.addEventListener('change', onFileChosen);
  ui.dropZone.addEventListener('dragover', onDragOver);
  ui.dropZone.addEventListener('dragleave', () => ui.dropZone.classList.remove('dragging'));
  ui.dropZone.addEventListener('drop', onDrop);
  ui.layers.addEventListener('click', onLayersClick);
  ui.zoomDialog.addEventListener('click', onDialogClick);
}

start();
