/**
 * Validation of pod volumes and volume mounts (upstream ValidateVolumes, validateVolumeSource,
 * ValidateVolumeMounts): DNS-label unique names, exactly one source, file modes, relative item paths,
 * mounts that name an existing volume at a unique path.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { duplicate, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { isDNS1123Label } from '../names.js';
import { quantityErrors, tryParseQuantity } from '../quantity.js';
import type { VolumeMount } from './container-types.js';
import { validateObjectFieldSelector, validateResourceFieldSelector, VOLUME_DOWNWARD_API_FIELDS } from './env-validate.js';
import type { DownwardAPIVolumeFile, KeyToPath, Volume } from './volume.js';
import { HOST_PATH_TYPES, VOLUME_SOURCE_KINDS } from './volume.js';

const FILE_MODE_MESSAGE = 'must be a number between 0 and 0777 (octal), both inclusive';

function validateMode(mode: number | undefined, path: FieldPath): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > 0o777) ? [invalid(path, mode, FILE_MODE_MESSAGE)] : [];
}

/** `..` anywhere, or an absolute path, would escape the volume directory. */
export function validateLocalDescendingPath(p: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalid(path, p, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(p, path));
  return errs;
}

function validatePathNoBacksteps(p: string, path: FieldPath): FieldError[] {
  return p.split('/').includes('..') ? [invalid(path, p, "must not contain '..'")] : [];
}

function validateLocalNonReservedPath(p: string, path: FieldPath): FieldError[] {
  const errs = validateLocalDescendingPath(p, path);
  // `..data` is where the atomic writer keeps its payload
  if (p.startsWith('..') && !p.startsWith('../')) errs.push(invalid(path, p, "must not start with '..'"));
  return errs;
}

function validateKeyToPath(kp: KeyToPath, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!kp.key) errs.push(required(path.child('key')));
  if (!kp.path) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(kp.path ?? '', path.child('path')));
  errs.push(...validateMode(kp.mode, path.child('mode')));
  return errs;
}

function validateDownwardAPIFile(f: DownwardAPIVolumeFile, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!f.path) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(f.path ?? '', path.child('path')));
  errs.push(...validateMode(f.mode, path.child('mode')));
  if (f.fieldRef) {
    errs.push(...validateObjectFieldSelector(f.fieldRef, VOLUME_DOWNWARD_API_FIELDS, path.child('fieldRef')));
    if (f.resourceFieldRef) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (f.resourceFieldRef) {
    errs.push(...validateResourceFieldSelector(f.resourceFieldRef, true, path.child('resourceFieldRef')));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  return errs;
}

function validateSource(v: Volume, kind: (typeof VOLUME_SOURCE_KINDS)[number], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  switch (kind) {
    case 'emptyDir': {
      const limit = v.emptyDir?.sizeLimit;
      if (limit !== undefined) {
        const parse = quantityErrors(limit);
        if (parse.length > 0) errs.push(...parse.map((m) => invalid(path.child('sizeLimit'), limit, m)));
        else if ((tryParseQuantity(limit)?.nanos ?? 0n) < 0n) errs.push(forbidden(path.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      const medium = v.emptyDir?.medium ?? '';
      if (!['', 'Memory', 'HugePages'].includes(medium) && !medium.startsWith('HugePages-')) {
        errs.push(notSupported(path.child('medium'), medium, ['', 'HugePages', 'Memory']));
      }
      break;
    }
    case 'hostPath': {
      const hp = v.hostPath ?? { path: '' };
      if (!hp.path) errs.push(required(path.child('path')));
      errs.push(...validatePathNoBacksteps(hp.path ?? '', path.child('path')));
      if (hp.type !== undefined && !HOST_PATH_TYPES.includes(hp.type)) errs.push(notSupported(path.child('type'), hp.type, HOST_PATH_TYPES));
      break;
    }
    case 'secret':
      if (!v.secret?.secretName) errs.push(required(path.child('secretName')));
      errs.push(...validateMode(v.secret?.defaultMode, path.child('defaultMode')));
      (v.secret?.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, path.child('items').index(i))));
      break;
    case 'configMap':
      if (!v.configMap?.name) errs.push(required(path.child('name')));
      errs.push(...validateMode(v.configMap?.defaultMode, path.child('defaultMode')));
      (v.configMap?.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, path.child('items').index(i))));
      break;
    case 'downwardAPI':
      errs.push(...validateMode(v.downwardAPI?.defaultMode, path.child('defaultMode')));
      (v.downwardAPI?.items ?? []).forEach((f, i) => errs.push(...validateDownwardAPIFile(f, path.child('items').index(i))));
      break;
    case 'projected':
      errs.push(...validateProjected(v, path));
      break;
    case 'persistentVolumeClaim':
      if (!v.persistentVolumeClaim?.claimName) errs.push(required(path.child('claimName')));
      break;
    case 'nfs':
      if (!v.nfs?.server) errs.push(required(path.child('server')));
      if (!v.nfs?.path) errs.push(required(path.child('path')));
      else if (!v.nfs.path.startsWith('/')) errs.push(invalid(path.child('path'), v.nfs.path, 'must be an absolute path'));
      break;
    case 'csi':
      if (!v.csi?.driver) errs.push(required(path.child('driver')));
      break;
    case 'ephemeral':
      if (v.ephemeral?.volumeClaimTemplate === undefined) errs.push(required(path.child('volumeClaimTemplate')));
      break;
    case 'image':
      if (!v.image?.reference) errs.push(required(path.child('reference')));
      break;
    default: {
      const never: never = kind;
      errs.push(invalid(path, never, 'unknown volume source'));
    }
  }
  return errs;
}

function validateProjected(v: Volume, path: FieldPath): FieldError[] {
  const errs = validateMode(v.projected?.defaultMode, path.child('defaultMode'));
  const paths = new Set<string>();
  const checkPath = (p: string, at: FieldPath): void => {
    if (paths.has(p)) errs.push(invalid(at, p, 'conflicting duplicate paths'));
    paths.add(p);
  };
  (v.projected?.sources ?? []).forEach((src, i) => {
    const sp = path.child('sources').index(i);
    const kinds = (['secret', 'configMap', 'downwardAPI', 'serviceAccountToken'] as const).filter((k) => src[k] !== undefined);
    if (kinds.length > 1) errs.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
    for (const kind of ['secret', 'configMap'] as const) {
      const ref = src[kind];
      if (ref === undefined) continue;
      if (!ref.name) errs.push(required(sp.child(kind).child('name')));
      (ref.items ?? []).forEach((kp, j) => {
        const ip = sp.child(kind).child('items').index(j);
        errs.push(...validateKeyToPath(kp, ip));
        checkPath(kp.path, ip.child('path'));
      });
    }
    (src.downwardAPI?.items ?? []).forEach((f, j) => {
      const ip = sp.child('downwardAPI').child('items').index(j);
      errs.push(...validateDownwardAPIFile(f, ip));
      checkPath(f.path, ip.child('path'));
    });
    const tok = src.serviceAccountToken;
    if (tok) {
      const tp = sp.child('serviceAccountToken');
      const exp = tok.expirationSeconds ?? 3600;
      if (exp < 600) errs.push(invalid(tp.child('expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(tp.child('expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      if (!tok.path) errs.push(required(tp.child('path')));
      else {
        errs.push(...validateLocalNonReservedPath(tok.path, tp.child('path')));
        checkPath(tok.path, tp.child('path'));
      }
    }
  });
  return errs;
}

/** Returns the names of the valid volumes (mounts may only refer to those) and the errors. */
export function validateVolumes(volumes: readonly Volume[] | undefined, path: FieldPath): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  (volumes ?? []).forEach((v, i) => {
    const p = path.index(i);
    const el: FieldError[] = [];
    let count = 0;
    for (const kind of VOLUME_SOURCE_KINDS) {
      if (v[kind] === undefined || v[kind] === null) continue;
      if (count > 0) el.push(forbidden(p.child(kind), 'may not specify more than 1 volume type'));
      else el.push(...validateSource(v, kind, p.child(kind)));
      count++;
    }
    if (count === 0) el.push(required(p, 'must specify a volume type'));
    if (!v.name) el.push(required(p.child('name')));
    else for (const msg of isDNS1123Label(v.name)) el.push(invalid(p.child('name'), v.name, msg));
    if (names.has(v.name)) el.push(duplicate(p.child('name'), v.name));
    if (el.length === 0) names.add(v.name);
    else errs.push(...el);
  });
  return { names, errs };
}

export function validateVolumeMounts(mounts: readonly VolumeMount[] | undefined, volumes: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  (mounts ?? []).forEach((m, i) => {
    const p = path.index(i);
    if (!m.name) errs.push(required(p.child('name')));
    // upstream says `Not found: "<name>"`; field-errors.ts has no NotFound type, so it is an Invalid here
    if (!volumes.has(m.name)) errs.push(invalid(p.child('name'), m.name, 'not found'));
    if (!m.mountPath) errs.push(required(p.child('mountPath')));
    if (mountPoints.has(m.mountPath)) errs.push(invalid(p.child('mountPath'), m.mountPath, 'must be unique'));
    mountPoints.add(m.mountPath);
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, p.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, p.child('subPathExpr')));
    }
    if (m.mountPropagation !== undefined && !['None', 'HostToContainer', 'Bidirectional'].includes(m.mountPropagation)) {
      errs.push(notSupported(p.child('mountPropagation'), m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
    }
  });
  return errs;
}
