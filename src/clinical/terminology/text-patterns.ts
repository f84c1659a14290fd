/**
 * Text fallbacks that CLINICAL.md allows where no known code is present: procedures, fractures and
 * imaging findings written only as words (a Chinese EHR often codes nothing), and negation. The facts
 * layer records every use of a fallback, so the card can say what was read from text.
 */
import type { AugmentationKind, ImagingFinding } from '../patient-facts.ts';
import type { ValueSet } from './code-systems.ts';
import { KYPHOSIS } from './condition-codes.ts';

/** PVP/PKP named in text; kyphoplasty is tested first. */
export const AUGMENTATION_TEXT: readonly { kind: AugmentationKind; pattern: RegExp }[] = [
  { kind: 'kyphoplasty', pattern: /kyphoplast|\bPKP\b|椎体后凸成形|后凸成形|球囊扩张椎体成形/i },
  { kind: 'vertebroplasty', pattern: /vertebroplast|\bPVP\b|椎体成形/i },
];

export const UNILATERAL_TEXT = /\bunilateral(ly)?\b|单侧/i;
export const BILATERAL_TEXT = /\bbilateral(ly)?\b|双侧/i;

/** A vertebral fracture named in text (a Chinese EHR often codes nothing). */
export const VERTEBRAL_FRACTURE_TEXT =
  /\b(vertebral|vertebra|vertebrae|spine|spinal|lumbar|thoracic|compression)\s+(\w+\s+){0,2}fractures?\b|\bfractures?\s+of\s+(the\s+)?(\w+\s+){0,2}(vertebra|vertebrae|vertebral\s+(column|body)|spine)\b|\bOVCFs?\b|\bVCFs?\b|椎[^，。,;；、]{0,6}骨折|压缩性?骨折/i;

/** Any fracture named in text: with a vertebral level it makes a vertebral fracture. */
export const FRACTURE_TEXT = /\bfractures?\b|骨折/i;

/** A vertebra named without a level: tells a site-less osteoporotic fracture code that it is vertebral. */
export const VERTEBRA_TEXT = /\b(vertebra|vertebrae|vertebral|spine|spinal)\b|椎/i;

export const NON_VERTEBRAL_FRAGILITY_FRACTURE_TEXT =
  /\b(hip|femoral\s+neck|neck\s+of\s+(the\s+)?femur|intertrochanteric|trochanteric|colles'?|distal\s+radius|distal\s+radial|wrist|proximal\s+humer(us|al)|pelvic|pelvis|sacral\s+insufficiency|fragility|osteoporotic)\s+(\w+\s+){0,2}fractures?\b|髋部骨折|股骨颈骨折|股骨粗隆间骨折|转子间骨折|桡骨远端骨折|colles骨折|肱骨近端骨折|骨盆骨折|骶骨骨折|脆性骨折|骨质疏松性骨折/i;

/** A negation just before a finding: "no cement leakage", "未见骨水泥渗漏". */
export const NEGATION_BEFORE =
  /(\b(no|not|without|negative\s+for|rule\s+out|r\/o|absence\s+of|free\s+of)\b[\s\w,-]{0,30}|(无|未见|未发现|未|排除|否认|没有)[^，。,;；]{0,10})$/i;

/** An Observation's text answer about presence. */
export const PRESENT_TEXT = /^\s*(yes|y|present|positive|true|detected|有|是|阳性|存在)\s*$/i;
export const ABSENT_TEXT = /^\s*(no|n|absent|negative|false|not\s+detected|none|无|否|阴性|未见|不存在)\s*$/i;

/** Imaging findings: codes where one exists (kyphosis only), else text in English and Chinese. */
export const IMAGING_FINDINGS: readonly { finding: ImagingFinding; valueSet?: ValueSet; text: RegExp }[] = [
  {
    finding: 'intravertebralCleft',
    text: /intra-?vertebral\s+(vacuum\s+)?cleft|vacuum\s+cleft|k[üu]mmell?'?s?\s+(disease|sign)|\bk[üu]mmell?\b|椎体内(真空)?裂隙|真空裂隙|裂隙征|kümmell病|库美尔病/i,
  },
  {
    finding: 'fasciaInjury',
    text: /(thoracolumbar|lumbodorsal)\s+fascia[l]?\s+(injury|injuries|edema|oedema|damage|tear|strain)|fascia[l]?\s+(injury|edema|oedema)\s+of\s+the\s+(thoracolumbar|lumbodorsal)|胸腰筋膜(损伤|水肿|挫伤)|腰背筋膜(损伤|水肿|挫伤)/i,
  },
  {
    finding: 'cementMaldistribution',
    text: /cement\s+maldistribution|(uneven|poor|inadequate|asymmetric(al)?|unbalanced)\s+(bone\s+)?cement\s+(distribution|filling)|cement\s+distribution\s+(was\s+|is\s+)?(uneven|poor|inadequate|asymmetric(al)?)|骨水泥分布不(均|良|佳|满意)|骨水泥弥散不(均|良|佳)/i,
  },
  {
    finding: 'cementLeakage',
    text: /cement\s+(leakage|leak|leaks|extravasation)|leakage\s+of\s+(bone\s+)?cement|骨水泥(渗漏|外漏|泄漏|渗出)/i,
  },
  {
    finding: 'solidLumpCement',
    text: /(solid[\s-]*lump|clumped|clumping|lump[\s-]*like|mass[\s-]*like|bulky)\s+(bone\s+)?cement|cement\s+(clump|clumps|clumping|lump|lumps)|骨水泥.{0,6}团块|团块[状样].{0,6}(骨水泥|分布)/i,
  },
  {
    finding: 'paraspinalFattyDegeneration',
    text: /(paraspinal|paravertebral|multifidus|erector\s+spinae)\s+(muscles?\s+)?(fatty\s+(degeneration|infiltration|atrophy)|fat\s+infiltration)|fatty\s+(degeneration|infiltration)\s+of\s+(the\s+)?(paraspinal|paravertebral|multifidus)|椎旁肌(肉)?脂肪(浸润|变性|化)|多裂肌脂肪(浸润|变性|化)/i,
  },
  {
    finding: 'cementNotTouchingEndplates',
    text: /cement\s+(did\s+)?not\s+(touch|reach|contact)(ing)?\s+(both\s+|the\s+)?(upper\s+and\s+lower\s+)?end-?\s?plates?|\bNPEC\b|骨水泥未(接触|触及|达到?)(上下)?(双侧)?终板/i,
  },
  { finding: 'kyphosis', valueSet: KYPHOSIS, text: /\bkyphosis\b|\bkyphotic\s+deformity\b|后凸畸形|驼背/i },
];

/** Findings about cement: they count only after a prior augmentation. */
export const CEMENT_FINDINGS: readonly ImagingFinding[] = [
  'cementMaldistribution',
  'cementLeakage',
  'solidLumpCement',
  'cementNotTouchingEndplates',
];

/**
 * A coding display or text saying a depression is in remission ("MDD, in full remission", "复发性抑郁障碍，
 * 目前为缓解状态"). Read with negation: "not in remission" and "未缓解" are not remission.
 */
export const DEPRESSION_REMISSION_TEXT = /\bremission\b|\bremitted\b|缓解/i;

/** A spine MRI or CT named in text, when the order carries no known CPT code. */
export const SPINE_IMAGING_TEXT =
  /\b(MRI|MR|CT)\b[^.;,]{0,30}\b(thoracic|lumbar|thoracolumbar|lumbosacral)\s+spine\b|\b(thoracic|lumbar|thoracolumbar|lumbosacral)\s+spine\s+(MRI|MR|CT)\b|(胸椎|腰椎|胸腰椎|腰骶椎)[^，。,;；]{0,6}(MRI|MR|CT|磁共振|核磁)|(MRI|MR|CT|磁共振|核磁)[^，。,;；]{0,6}(胸椎|腰椎|胸腰椎|腰骶椎)/i;

export const DXA_TEXT = /\b(DXA|DEXA)\b|bone\s+(mineral\s+)?densit(y|ometry)|骨密度|双能X线/i;
export const PHQ9_TEXT = /\bPHQ-?9\b|患者健康问卷/i;
