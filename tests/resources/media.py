"""Small, real media files made on the fly for the resources tests (no binary fixtures in the repository).

Every function writes one file under the given directory and returns its path. Video and audio are encoded with
PyAV (the FFmpeg inside its wheel), images with Pillow, PDFs with pypdf, office files as minimal OOXML packages.
"""

import fractions
import io
import math
import struct
import zipfile
from pathlib import Path

import array

import av
from PIL import Image, ImageDraw

# The EICAR anti-virus test string (harmless by design, recognised by every scanner as a test "virus").
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _frame_image(i: int, width: int, height: int) -> Image.Image:
    """A moving box on a colour gradient, so encoders have something real to compress."""
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(img)
    x = (i * 12) % max(1, width - 60)
    draw.rectangle([x, height // 3, x + 60, height // 3 + 60], fill=(200, 40, 40))
    return img


def _tone(n_samples: int, rate: int, start: int) -> bytes:
    """One plane of float32 samples of a 440 Hz tone."""
    return array.array("f", (0.3 * math.sin(2 * math.pi * 440 * (start + k) / rate)
                             for k in range(n_samples))).tobytes()


def video(directory: Path, name: str = "lesson.mp4", *, container: str = "mp4", vcodec: str = "libx264",
          acodec: str | None = "aac", width: int = 640, height: int = 360, fps: int = 25, seconds: float = 2.0,
          video_bitrate: int | None = None) -> Path:
    """Encode a short test video: by default H.264/AAC in MP4, 640×360, 25 fps, 2 s."""
    path = Path(directory) / name
    with av.open(str(path), "w", format=container) as out:
        vs = out.add_stream(vcodec, rate=fps)
        vs.width, vs.height = width, height
        vs.pix_fmt = "yuv420p"
        if video_bitrate:
            vs.bit_rate = video_bitrate
        if vcodec == "libx264":
            vs.options = {"preset": "ultrafast"}
        a_stream = None
        if acodec:
            a_stream = out.add_stream(acodec, rate=44100)
            a_stream.layout = "stereo"
            if acodec in ("aac", "libmp3lame", "libvorbis", "libopus"):
                a_stream.bit_rate = 128_000
        n_frames = int(seconds * fps)
        for i in range(n_frames):
            frame = av.VideoFrame.from_image(_frame_image(i, width, height))
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if a_stream is not None:
            _encode_audio(out, a_stream, seconds, 44100)
    return path


def _encode_audio(out, stream, seconds: float, rate: int) -> None:
    fmt = stream.codec_context.format.name if stream.codec_context.format else "fltp"
    frame_size = stream.codec_context.frame_size or 1024
    total = int(seconds * rate)
    pts = 0
    while pts < total:
        n = min(frame_size, total - pts)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=n)
        plane = _tone(n, rate, pts)
        for p in frame.planes:
            p.update(plane)
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, rate)
        if fmt != "fltp":
            resampler = av.AudioResampler(format=fmt, layout="stereo", rate=rate)
            frames = resampler.resample(frame)
        else:
            frames = [frame]
        for f in frames:
            for packet in stream.encode(f):
                out.mux(packet)
        pts += n
    for packet in stream.encode():
        out.mux(packet)


def mp4_h264(directory: Path, name: str = "lesson.mp4", **kwargs) -> Path:
    return video(directory, name, **kwargs)


def mkv_mpeg4(directory: Path, name: str = "old.mkv", **kwargs) -> Path:
    """MPEG-4 part 2 video with MP3 audio in Matroska: browsers cannot play it, so a web rendition is needed."""
    kwargs.setdefault("vcodec", "mpeg4")
    kwargs.setdefault("acodec", "libmp3lame")
    return video(directory, name, container="matroska", **kwargs)


def audio(directory: Path, name: str = "talk.mp3", *, codec: str = "libmp3lame", container: str = "mp3",
          seconds: float = 1.0, bit_rate: int = 128_000) -> Path:
    path = Path(directory) / name
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=44100)
        stream.layout = "stereo"
        if bit_rate and not codec.startswith("pcm"):
            stream.bit_rate = bit_rate
        _encode_audio(out, stream, seconds, 44100)
    return path


def wav(directory: Path, name: str = "tone.wav", seconds: float = 1.0) -> Path:
    return audio(directory, name, codec="pcm_s16le", container="wav", seconds=seconds, bit_rate=0)


def image(directory: Path, name: str = "photo.png", *, size=(1024, 768), fmt: str = "PNG", mode: str = "RGB") -> Path:
    path = Path(directory) / name
    img = Image.new(mode, size, "white" if mode != "RGBA" else (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    draw.rectangle([size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4],
                   fill="red" if mode in ("RGB", "RGBA") else 128)
    img.save(path, fmt)
    return path


def gif(directory: Path, name: str = "anim.gif", size=(200, 100), frames: int = 3) -> Path:
    path = Path(directory) / name
    images = [Image.new("RGB", size, (i * 80, 0, 0)) for i in range(frames)]
    images[0].save(path, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def pdf(directory: Path, name: str = "handout.pdf", pages: int = 2, *, encrypt: bool = False,
        size=(595, 842)) -> Path:
    """A real PDF with `pages` pages; the first page carries a filled rectangle so its thumbnail is not blank."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    path = Path(directory) / name
    writer = PdfWriter()
    for i in range(pages):
        page = writer.add_blank_page(width=size[0], height=size[1])
        content = DecodedStreamObject()
        content.set_data(f"0.8 0.1 0.1 rg 100 {400 + i * 10} 300 200 re f".encode())
        page[NameObject("/Contents")] = writer._add_object(content)
    if encrypt:
        writer.encrypt(user_password="secret", owner_password="owner")
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/{part}" ContentType="{ctype}"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="{part}"/>
</Relationships>"""


def docx(directory: Path, name: str = "lesson-plan.docx", text: str = "教学设计：网络安全基础") -> Path:
    """A minimal Word document that Word and LibreOffice open."""
    path = Path(directory) / name
    part = "word/document.xml"
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            part=part, ctype="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"))
        zf.writestr("_rels/.rels", _RELS.format(part=part))
        zf.writestr(part, document)
    return path


def pptx(directory: Path, name: str = "slides.pptx", slides: int = 2) -> Path:
    """A structurally recognisable PowerPoint package (enough for type detection, not for rendering)."""
    path = Path(directory) / name
    part = "ppt/presentation.xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            part=part, ctype="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"))
        zf.writestr("_rels/.rels", _RELS.format(part=part))
        zf.writestr(part, '<?xml version="1.0"?><p:presentation '
                          'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>')
        for i in range(1, slides + 1):
            zf.writestr(f"ppt/slides/slide{i}.xml", "<p:sld/>")
    return path


def xlsx(directory: Path, name: str = "scores.xlsx") -> Path:
    from openpyxl import Workbook

    path = Path(directory) / name
    wb = Workbook()
    wb.active.append(["学号", "成绩"])
    wb.active.append(["2024001", 95])
    wb.save(path)
    return path


def zip_archive(directory: Path, name: str = "package.zip", files: dict[str, bytes] | None = None) -> Path:
    path = Path(directory) / name
    files = files or {"index.html": b"<!doctype html><title>sim</title>", "js/app.js": b"console.log(1)"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in files.items():
            zf.writestr(member, data)
    return path


def srt(directory: Path, name: str = "lesson.srt") -> Path:
    path = Path(directory) / name
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\n大家好\n\n2\n00:00:01,000 --> 00:00:02,000\n今天学习网络安全\n",
                    encoding="utf-8")
    return path


def vtt(directory: Path, name: str = "lesson.vtt") -> Path:
    path = Path(directory) / name
    path.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\n大家好\n", encoding="utf-8")
    return path


def text(directory: Path, name: str = "notes.txt", content: str = "网络安全基础\n第一章 概述\n") -> Path:
    path = Path(directory) / name
    path.write_text(content, encoding="utf-8")
    return path


def elf(directory: Path, name: str = "report.pdf") -> Path:
    """An ELF executable header (64-bit, x86-64) padded out, under a document's name."""
    path = Path(directory) / name
    header = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 0x3E, 1)
    path.write_bytes(header + b"\x00" * 512)
    return path


def pe(directory: Path, name: str = "invoice.pdf") -> Path:
    """A Windows PE executable stub (MZ header with a PE signature) under a document's name."""
    path = Path(directory) / name
    data = bytearray(b"MZ" + b"\x90" * 58 + struct.pack("<I", 0x80))
    data += b"\x00" * (0x80 - len(data)) + b"PE\x00\x00" + b"\x00" * 256
    path.write_bytes(bytes(data))
    return path


def shebang_script(directory: Path, name: str = "homework.docx") -> Path:
    path = Path(directory) / name
    path.write_text("#!/bin/sh\nrm -rf ~/*\n", encoding="utf-8")
    return path


def eicar(directory: Path, name: str = "eicar.txt") -> Path:
    path = Path(directory) / name
    path.write_bytes(EICAR)
    return path


def svg(directory: Path, name: str = "diagram.svg", *, script: bool = False) -> Path:
    path = Path(directory) / name
    body = '<script>alert(document.cookie)</script>' if script else ""
    path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">'
                    f'<rect width="300" height="200" fill="blue"/>{body}</svg>', encoding="utf-8")
    return path


def png_bytes(size=(10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def ole2(directory: Path, name: str = "old.doc", streams=("WordDocument", "1Table"), root_clsid: bytes = b"") -> Path:
    """A minimal OLE2 compound file (legacy .doc/.xls/.ppt container) with the named, empty streams."""
    path = Path(directory) / name
    sector = 512
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 24, 0x3E, 3, 0xFFFE)  # minor, major version, byte order
    struct.pack_into("<HH", header, 30, 9, 6)  # sector shift (512), mini sector shift
    struct.pack_into("<I", header, 44, 1)  # number of FAT sectors
    struct.pack_into("<I", header, 48, 1)  # first directory sector
    struct.pack_into("<I", header, 56, 4096)  # mini stream cutoff
    struct.pack_into("<III", header, 60, 0xFFFFFFFE, 0, 0xFFFFFFFE)  # mini FAT: none
    struct.pack_into("<II", header, 68, 0xFFFFFFFE, 0)  # DIFAT: none beyond the header
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 76, *difat)
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * 126
    fat_sector = struct.pack("<128I", *fat)

    def entry(entry_name: str, entry_type: int, clsid: bytes = b"") -> bytes:
        raw = entry_name.encode("utf-16-le") + b"\x00\x00"
        e = bytearray(128)
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), entry_type, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        if clsid:
            e[80:96] = clsid
        struct.pack_into("<I", e, 116, 0xFFFFFFFE)
        return bytes(e)

    entries = [entry("Root Entry", 5, root_clsid)] + [entry(s, 2) for s in streams]
    directory_sector = b"".join(entries)[:sector].ljust(sector, b"\x00")
    path.write_bytes(bytes(header) + fat_sector + directory_sector)
    return path
