'use strict';
// Reading and checking a diviml partition plan (plan.json written by `diviml partition`, see
// docs/deploy.md). Every problem becomes one PlanError naming the file and what is wrong.
const fs = require('fs');
const path = require('path');

class PlanError extends Error {}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlanError(`${file}: cannot read ${what} (${e.code || e.message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PlanError(`${file}: ${what} is not valid JSON: ${e.message}`);
  }
}

/// Loads PLAN_DIR/plan.json and checks that it is a segment plan whose files exist and whose
/// segments are in an executable order (each input is a graph input or made by an earlier segment).
function loadPlan(planDir) {
  if (!fs.existsSync(planDir) || !fs.statSync(planDir).isDirectory())
    throw new PlanError(`${planDir}: no such plan directory (write one with \`diviml partition -o DIR\`)`);
  const file = path.join(planDir, 'plan.json');
  if (!fs.existsSync(file)) throw new PlanError(`${file}: missing (not a plan directory written by \`diviml partition\`)`);
  const plan = readJson(file, 'plan');
  if (plan.format !== 'diviml-partition-plan') throw new PlanError(`${file}: not a diviml partition plan ("format" is ${JSON.stringify(plan.format)})`);
  if (!Array.isArray(plan.segments) || plan.segments.length === 0)
    throw new PlanError(`${file}: has no "segments" (plan version ${plan.version}; re-run \`diviml partition\`)`);
  if (typeof plan.whole_model !== 'string') throw new PlanError(`${file}: no "whole_model"`);
  const need = [plan.whole_model, ...plan.segments.map((s) => s.model)];
  for (const m of need) {
    if (typeof m !== 'string' || !fs.existsSync(path.join(planDir, m)))
      throw new PlanError(`${path.join(planDir, String(m))}: model file named by the plan is missing`);
  }
  const graphInputs = new Set((plan.graph_inputs || []).map((t) => t.tensor));
  const made = new Map();  // tensor -> segment name
  const seen = new Set();
  for (const s of plan.segments) {
    if (seen.has(s.name)) throw new PlanError(`${file}: segment '${s.name}' appears twice`);
    seen.add(s.name);
    if (typeof s.device !== 'string' || !Array.isArray(s.inputs) || !Array.isArray(s.outputs))
      throw new PlanError(`${file}: segment '${s.name}' lacks "device", "inputs" or "outputs"`);
    for (const i of s.inputs) {
      if (graphInputs.has(i.tensor)) continue;
      if (!made.has(i.tensor))
        throw new PlanError(`${file}: segment '${s.name}' reads '${i.tensor}', which no earlier segment produces`);
    }
    for (const o of s.outputs) made.set(o.tensor, s.name);
  }
  for (const o of plan.graph_outputs || [])
    if (!made.has(o.tensor)) throw new PlanError(`${file}: graph output '${o.tensor}' is produced by no segment`);
  return plan;
}

/// Devices in order of their first segment.
function planDevices(plan) {
  const d = [];
  for (const s of plan.segments) if (!d.includes(s.device)) d.push(s.device);
  return d;
}

module.exports = { PlanError, loadPlan, planDevices, readJson };
