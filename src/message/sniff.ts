/**
 * File type recognition from magic bytes, and the ZIP central directory reader.
 *
 * Why a small table and not the `file-type` package: we only need the families that matter for
 * "declared vs actual" checks on mail attachments (executables, archives, office/PDF documents,
 * images), the table is a dozen prefixes checked against the first bytes of a Buffer we already
 * hold, and `file-type` pulls in stream tokenizers for ~150 formats we would never act on.
 */

interface Magic {
  readonly type: string;
  readonly offset: number;
  readonly bytes: readonly number[];
}

const hex = (s: string): number[] => s.split(' ').map((b) => parseInt(b, 16));

/** Sniffed type names; also the values rule files compare with `sniffed: [...]`. */
const MAGIC: readonly Magic[] = [
  { type: 'exe', offset: 0, bytes: hex('4d 5a') }, // MZ: DOS/PE executables, DLL, SCR, CPL
  { type: 'elf', offset: 0, bytes: hex('7f 45 4c 46') },
  { type: 'macho', offset: 0, bytes: hex('cf fa ed fe') },
  { type: 'zip', offset: 0, bytes: hex('50 4b 03 04') }, // also docx/xlsx/jar/apk
  { type: 'zip', offset: 0, bytes: hex('50 4b 05 06') }, // empty zip
  { type: 'rar', offset: 0, bytes: hex('52 61 72 21 1a 07') },
  { type: '7z', offset: 0, bytes: hex('37 7a bc af 27 1c') },
  { type: 'gzip', offset: 0, bytes: hex('1f 8b') },
  { type: 'cab', offset: 0, bytes: hex('4d 53 43 46') },
  { type: 'ole', offset: 0, bytes: hex('d0 cf 11 e0 a1 b1 1a e1') }, // doc/xls/ppt/msi
  { type: 'pdf', offset: 0, bytes: hex('25 50 44 46 2d') },
  { type: 'rtf', offset: 0, bytes: hex('7b 5c 72 74 66') },
  { type: 'png', offset: 0, bytes: hex('89 50 4e 47 0d 0a 1a 0a') },
  { type: 'jpeg', offset: 0, bytes: hex('ff d8 ff') },
  { type: 'gif', offset: 0, bytes: hex('47 49 46 38') },
  { type: 'iso', offset: 0x8001, bytes: hex('43 44 30 30 31') },
];

/** Sniff the type of `data`; undefined when no entry matches. */
export function sniffType(data: Buffer): string | undefined {
  for (const m of MAGIC) {
    if (data.length < m.offset + m.bytes.length) continue;
    let ok = true;
    for (let i = 0; i < m.bytes.length; i++) {
      if (data[m.offset + i] !== m.bytes[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return m.type;
  }
  return undefined;
}

const IMAGE_EXT = /^(png|jpe?g|jfif|jpe|gif|bmp|webp|tiff?|heic)$/;

/** Declared content types and file extensions each sniffed type is consistent with. */
const COMPATIBLE: Readonly<Record<string, { types: RegExp; exts: RegExp }>> = {
  exe: { types: /^application\/(x-(ms)?dos-?exec\w*|x-msdownload|x-ms-?installer|vnd\.microsoft\.portable-executable|x-executable|exe|x-exe)$/, exts: /^(exe|dll|scr|com|cpl|sys|ocx|pif|msi|efi)$/ },
  elf: { types: /^application\/(x-executable|x-elf|x-sharedlib)$/, exts: /^(so|bin|elf|run)?$/ },
  macho: { types: /^application\/(x-mach-binary|x-executable)$/, exts: /^(dylib|bin)?$/ },
  zip: { types: /^application\/(zip|x-zip\w*|java-archive|vnd\.openxmlformats.*|vnd\.oasis\.opendocument.*|vnd\.android\.package-archive|epub\+zip|vnd\.ms-\w+\.\w+\.macroenabled\.12)$/, exts: /^(zip|jar|apk|docx|docm|xlsx|xlsm|pptx|pptm|odt|ods|odp|epub|kmz|xpi|ipa|appx|msix|vsix)$/ },
  rar: { types: /^application\/((x-)?rar(-compressed)?|vnd\.rar)$/, exts: /^(rar|r\d\d)$/ },
  '7z': { types: /^application\/x-7z-compressed$/, exts: /^7z$/ },
  gzip: { types: /^application\/((x-)?gzip|x-gtar|x-tgz|x-compressed-tar)$/, exts: /^(gz|tgz)$/ },
  cab: { types: /^application\/(vnd\.ms-cab-compressed|x-cab)$/, exts: /^cab$/ },
  ole: { types: /^application\/(msword|vnd\.ms-\w+|x-msi|x-ole-storage|vnd\.visio|x-msmetafile)$/, exts: /^(doc|dot|xls|xlt|ppt|pps|msi|msg|vsd|pub|mpp)$/ },
  pdf: { types: /^application\/(x-)?pdf$/, exts: /^pdf$/ },
  rtf: { types: /^(application|text)\/(x-)?rtf$/, exts: /^(rtf|doc)$/ },
  // Images mislabelled as another image type are common and harmless: any image type/extension fits.
  png: { types: /^image\//, exts: IMAGE_EXT },
  jpeg: { types: /^image\//, exts: IMAGE_EXT },
  gif: { types: /^image\//, exts: IMAGE_EXT },
  iso: { types: /^application\/(x-iso9660-image|x-cd-image)$/, exts: /^(iso|img)$/ },
};

// Declared types that say nothing about the content: never a mismatch on their own.
const GENERIC_TYPE = /^(application\/(octet-stream|x-download|download|force-download|unknown|binary)|binary\/octet-stream|)$/;

/**
 * True when the sniffed type contradicts the declared (specific) content type or the file
 * extension: e.g. `invoice.pdf` declared `application/pdf` whose bytes start with `MZ`.
 */
export function typeMismatch(sniffed: string | undefined, contentType: string, filename: string): boolean {
  if (!sniffed) return false;
  const c = COMPATIBLE[sniffed];
  if (!c) return false;
  if (!GENERIC_TYPE.test(contentType) && !c.types.test(contentType)) return true;
  const ext = lastExtension(filename);
  if (ext && !c.exts.test(ext)) return true;
  return false;
}

/** Lower-case last extension of a file name without the dot, '' if none. */
export function lastExtension(filename: string): string {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase().trim() : '';
}

/**
 * Entry names of a ZIP archive, read from its central directory (PKWARE APPNOTE §4.3.12/§4.3.16):
 * find the End Of Central Directory record near the end, then walk the directory headers. No
 * decompression, so this is cheap even for large archives. Returns [] on anything malformed.
 */
export function zipEntryNames(data: Buffer, max = 1000): string[] {
  const EOCD = 0x06054b50;
  const CDH = 0x02014b50;
  // EOCD is 22 bytes plus a comment of at most 65535 bytes.
  const stop = Math.max(0, data.length - 22 - 65535);
  let eocd = -1;
  for (let i = data.length - 22; i >= stop; i--) {
    if (data.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return [];
  const count = data.readUInt16LE(eocd + 10);
  let p = data.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count && names.length < max; n++) {
    if (p + 46 > data.length || data.readUInt32LE(p) !== CDH) break;
    const flags = data.readUInt16LE(p + 8);
    const nameLen = data.readUInt16LE(p + 28);
    const extraLen = data.readUInt16LE(p + 30);
    const commentLen = data.readUInt16LE(p + 32);
    if (p + 46 + nameLen > data.length) break;
    // Bit 11: names are UTF-8; otherwise CP437, which latin1 approximates for the ASCII we match.
    names.push(data.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}
