"""Demo resources in 计算机应用技术专业教学资源库, made and reviewed through the real services.

Files are generated here (a 1280×720 H.264 clip with PyAV, a small PDF), stored through the content-addressed
storage, inspected, and published through the three review levels, so the demo shows every state a user meets.
"""

import tempfile
from pathlib import Path

import av
from PIL import Image, ImageDraw

from reslib.libraries.models import Library
from reslib.resources import services as resource_services
from reslib.resources.services import Author, ResourceMetadata
from reslib.resources.storage import store_temp_file
from reslib.review import checklist
from reslib.review import services as review_services

ALL_PASS = {code: True for code in checklist.CODES}


def _clip(path: Path, *, seconds: int = 6, width: int = 1280, height: int = 720, fps: int = 25) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 1_500_000
        stream.options = {"preset": "ultrafast"}
        for i in range(seconds * fps):
            img = Image.new("RGB", (width, height), (16, 86, 180))
            draw = ImageDraw.Draw(img)
            x = 80 + (i * 9) % (width - 320)
            draw.rectangle([x, height // 2 - 80, x + 160, height // 2 + 80], fill=(255, 255, 255))
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with Helvetica text (ASCII), offsets computed so readers accept it."""
    text = "BT /F1 16 Tf 72 760 Td 22 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{off:010d} 00000 n \n" for off in offsets).encode()
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(body)
    return path


def publish_through_review(version, *, submitter, level_reviewers):
    request = review_services.submit_for_review(version, by=submitter, commitment_accepted=True)
    review_services.run_machine_prereview(request.pk)
    for reviewer in level_reviewers:
        review_services.decide(request.pk, by=reviewer, decision="approve", checklist_results=ALL_PASS,
                               comment="内容准确，版权信息完整，同意通过。")
    return request


def load(library: Library, users: dict, say) -> None:
    library.refresh_from_db()
    builder, lead, reviewer, reviewer2 = users["builder"], users["lead"], users["reviewer"], users["reviewer2"]
    lead_host = library.hosts.order_by("position").first().organization
    network = resource_services.add_knowledge_point(library, by=lead, name="计算机网络")
    tcpip = resource_services.add_knowledge_point(library, by=lead, name="TCP/IP 协议", parent_id=network.pk)
    programming = resource_services.add_knowledge_point(library, by=lead, name="程序设计基础", kind="skill")

    def metadata(**kwargs) -> ResourceMetadata:
        base = dict(major=library.core_major_id, originality="original", licence="cc_by_nc",
                    contributing_org=lead_host.pk, copyright_holder_org=lead_host.pk, audience=["student"],
                    authors=[Author(name="李晓梅", institution=lead_host.name, user_id=builder.pk)])
        base.update(kwargs)
        return ResourceMetadata(**base)

    with tempfile.TemporaryDirectory() as tmp:
        clip = _clip(Path(tmp) / "subnet.mp4")
        video = resource_services.create_resource(library, metadata(
            title="子网划分演示动画", resource_type="video", knowledge_points=[tcpip.pk],
            description="用动画演示 IPv4 子网划分与子网掩码计算的过程。", keywords=["子网", "IPv4", "网络"],
            difficulty="basic"), by=builder)
        resource_services.attach_file(video.latest_version, store_temp_file(clip, original_name="子网划分.mp4"),
                                      role="main", original_name="子网划分.mp4", by=builder)
        publish_through_review(video.latest_version, submitter=builder, level_reviewers=[reviewer, reviewer2])

        pdf = _pdf(Path(tmp) / "notes.pdf", ["Computer Networks - Lecture 1", "OSI and TCP/IP models",
                                             "Jiangsu Institute of IT (demo)"])
        notes = resource_services.create_resource(library, metadata(
            title="计算机网络基础讲义（第一讲）", resource_type="text", knowledge_points=[network.pk],
            description="OSI 参考模型与 TCP/IP 模型对照讲义。", keywords=["计算机网络", "讲义"]), by=builder)
        resource_services.attach_file(notes.latest_version, store_temp_file(pdf, original_name="网络基础讲义.pdf"),
                                      role="main", original_name="网络基础讲义.pdf", by=builder)
        publish_through_review(notes.latest_version, submitter=builder, level_reviewers=[reviewer, reviewer2])

    link = resource_services.create_resource(library, metadata(
        title="Python 官方教程（中文）", resource_type="external_link", knowledge_points=[programming.pk],
        external_url="https://docs.python.org/zh-cn/3/tutorial/", originality="quoted",
        source="Python Software Foundation", licence="other", licence_text="以原网站许可为准",
        copyright_holder_org=None, copyright_holder_person="Python Software Foundation",
        description="Python 官方教程的中文版，外部链接。", keywords=["Python", "程序设计"]), by=builder)
    publish_through_review(link.latest_version, submitter=builder, level_reviewers=[reviewer, reviewer2])

    waiting = resource_services.create_resource(library, metadata(
        title="路由器基本配置实训指导（外部平台）", resource_type="external_link", knowledge_points=[tcpip.pk],
        external_url="https://www.example.com/router-lab", originality="original",
        description="实训指导，等待主持单位审核。"), by=builder)
    publish_through_review(waiting.latest_version, submitter=builder, level_reviewers=[reviewer2])

    resource_services.create_resource(library, metadata(
        title="网络安全基础微课（草稿）", resource_type="micro_lesson", knowledge_points=[network.pk],
        description="尚未上传视频的草稿。"), by=builder)
    say("Loaded 5 resources (3 published, 1 in review, 1 draft) in the 计算机应用技术 library.")
