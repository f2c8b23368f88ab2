// The demo page: tabs, the status line, and start-up (fetch the demo model, hand it to the worker, wire the views).
import configUrl from '../../data/demo-model/config.json?url';
import weightsUrl from '../../data/demo-model/model.safetensors?url';
import { call } from './client';
import { $, h, showError } from './dom';
import type { InitInfo } from './protocol';
import { initBench, setBenchInfo } from './views/bench';
import { initGenerate } from './views/generate';
import { initPatching, setModel } from './views/patching';
import { initProperties, setChecks } from './views/properties';
import { initWalkthrough, runWalkthrough } from './views/walkthrough';

const VIEWS = ['patching', 'walkthrough', 'generate', 'bench', 'properties'];
let walked = false;

function show(view: string): void {
  if (!VIEWS.includes(view)) view = 'patching';
  for (const v of VIEWS) {
    $(`tab-${v}`).setAttribute('aria-selected', String(v === view));
    $(`view-${v}`).hidden = v !== view;
  }
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
  if (view === 'walkthrough' && !walked && document.body.dataset.ready === 'true') { walked = true; void runWalkthrough(); }
}

function status(i: InitInfo): void {
  const gpu = i.webgpu.ok ? `WebGPU: ${i.webgpu.adapter}` : 'no WebGPU in this browser';
  $('status').replaceChildren(
    h('span', { class: `dot ${i.webgpu.ok ? 'ok' : 'warn'}` }),
    h('span', {}, `${i.model.source}, ${i.model.parameters.toLocaleString('en')} parameters`),
    h('span', { class: 'sep' }, '·'), h('span', {}, `CPU: ${i.cpuThreads} thread${i.cpuThreads === 1 ? '' : 's'}`),
    h('span', { class: 'sep' }, '·'), h('span', {}, gpu),
  );
}

async function fetchBytes(url: string, what: string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not download the ${what} (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`could not download the ${what}: the server answered ${res.status} ${res.statusText}`);
  return res.arrayBuffer();
}

async function start(): Promise<void> {
  for (const v of VIEWS) $(`tab-${v}`).addEventListener('click', () => show(v));
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  initPatching();
  initWalkthrough();
  initGenerate();
  initBench();
  initProperties();
  show(location.hash.slice(1));
  try {
    const [config, weights] = await Promise.all([fetchBytes(configUrl, 'model configuration'), fetchBytes(weightsUrl, 'model weights')]);
    const info = await call<InitInfo>({ kind: 'init' }, undefined, { config, weights }, [config, weights]);
    status(info);
    setModel(info.model);
    setBenchInfo(info);
    setChecks(info.checks);
    document.body.dataset.ready = 'true';
    if (!$('view-walkthrough').hidden) show('walkthrough');
  } catch (e) {
    $('status').replaceChildren(h('span', { class: 'dot warn' }), 'The model could not be loaded.');
    showError((e as Error).message);
  }
}

void start();
