#!/usr/bin/env python3
"""Re-derives MediaPipe's stages from its own dumps with the spec's formulas (numpy, float64) and
prints the largest difference per step, to check docs/pipeline.md against the
real graph: decode (§2.4-2.5), weighted NMS (§2.6), letterbox removal (§2.7), ROI (§2.8),
landmark decode (§2.11), projection (§2.14), world landmarks (§2.15). Needs full dumps
(stages.py --tensors all, for detector_raw_boxes.npy).

Usage: Tools/.venv-mediapipe/bin/python Tools/mediapipe/check_spec.py DUMP_DIR [DUMP_DIR ...]
"""
import json, math, os, sys
import numpy as np
def L(d,n):
    return json.load(open(f"{d}/{n}.json"))
def anchors():
    out=[]
    for stride,per in ((8,2),(16,2),(32,6)):
        fm=math.ceil(224/stride)
        for y in range(fm):
            for x in range(fm):
                for _ in range(per): out.append(((x+0.5)/fm,(y+0.5)/fm))
    return np.array(out,dtype=np.float32)
A=anchors(); assert len(A)==2254
for d in sys.argv[1:]:
    m=json.load(open(d+"/manifest.json")); W,H=m["image_size"]
    if not os.path.exists(d+"/detector_raw_boxes.npy") or "detection" not in m["stages"]:
        print(f"{d}: skipped (needs a full dump with a detection)"); continue
    boxes=np.load(d+"/detector_raw_boxes.npy")[0].astype(np.float64); scores=np.load(d+"/detector_raw_scores.npy")[0,:,0].astype(np.float64)
    s=1/(1+np.exp(-np.clip(scores,-100,100)))
    keep=np.where(s>=0.5)[0]
    dets=[]
    for i in keep:
        r=boxes[i]; ax,ay=A[i]
        xc=r[0]/224+ax; yc=r[1]/224+ay; w=r[2]/224; h=r[3]/224
        kps=[[r[4+2*k]/224+ax, r[5+2*k]/224+ay] for k in range(4)]
        dets.append(dict(score=s[i],xmin=xc-w/2,ymin=yc-h/2,width=w,height=h,keypoints=kps))
    ref=L(d,"detections_before_nms")
    def vec(x): return np.array([x["score"],x["xmin"],x["ymin"],x["width"],x["height"]]+[c for k in x["keypoints"] for c in k])
    assert len(ref)==len(dets), (len(ref),len(dets))
    e_dec=max(np.abs(vec(a)-vec(b)).max() for a,b in zip(dets,ref))
    # weighted NMS
    def iou(a,b):
        ax0,ay0,ax1,ay1=a["xmin"],a["ymin"],a["xmin"]+a["width"],a["ymin"]+a["height"]
        bx0,by0,bx1,by1=b["xmin"],b["ymin"],b["xmin"]+b["width"],b["ymin"]+b["height"]
        if ax1<bx0 or bx1<ax0 or ay1<by0 or by1<ay0: return 0.0
        iw=min(ax1,bx1)-max(ax0,bx0); ih=min(ay1,by1)-max(ay0,by0); inter=iw*ih
        den=a["width"]*a["height"]+b["width"]*b["height"]-inter
        return inter/den if den>0 else 0.0
    rem=sorted(ref,key=lambda x:-x["score"]); out=[]
    while rem:
        top=rem[0]; cand=[c for c in rem if iou(c,top)>0.3]; rest=[c for c in rem if not iou(c,top)>0.3]
        T=sum(c["score"] for c in cand)
        x0=sum(c["score"]*c["xmin"] for c in cand)/T; y0=sum(c["score"]*c["ymin"] for c in cand)/T
        x1=sum(c["score"]*(c["xmin"]+c["width"]) for c in cand)/T; y1=sum(c["score"]*(c["ymin"]+c["height"]) for c in cand)/T
        kps=[[sum(c["score"]*c["keypoints"][k][j] for c in cand)/T for j in (0,1)] for k in range(4)]
        out.append(dict(score=top["score"],xmin=x0,ymin=y0,width=x1-x0,height=y1-y0,keypoints=kps))
        if len(rest)==len(rem): break
        rem=rest
    refn=L(d,"detections_after_nms"); assert len(refn)==len(out),(len(refn),len(out))
    e_nms=max(np.abs(vec(a)-vec(b)).max() for a,b in zip(out,refn))
    # letterbox
    S=max(W,H); ph=(1-W/S)/2 if W<S else 0; pv=(1-H/S)/2 if H<S else 0
    l,t,rr,b=ph,pv,ph,pv
    def unl(x): return dict(score=x["score"],xmin=(x["xmin"]-l)/(1-l-rr),ymin=(x["ymin"]-t)/(1-t-b),width=x["width"]/(1-l-rr),height=x["height"]/(1-t-b),keypoints=[[(k[0]-l)/(1-l-rr),(k[1]-t)/(1-t-b)] for k in x["keypoints"]])
    e_unl=max(np.abs(vec(unl(a))-vec(b)).max() for a,b in zip(refn,L(d,"detections_unletterboxed")))
    det=L(d,"detection"); k0,k1=det["keypoints"][0],det["keypoints"][1]
    P0=(k0[0]*W,k0[1]*H); P1=(k1[0]*W,k1[1]*H); dd=math.hypot(P1[0]-P0[0],P1[1]-P0[1])
    rot=math.pi/2-math.atan2(-(P1[1]-P0[1]),P1[0]-P0[0]); rot=rot-2*math.pi*math.floor((rot+math.pi)/(2*math.pi))
    roi=L(d,"roi"); ra=L(d,"roi_alignment")
    e_roia=max(abs(ra["x_center"]-k0[0]),abs(ra["y_center"]-k0[1]),abs(ra["width"]-2*dd/W),abs(ra["height"]-2*dd/H),abs(ra["rotation"]-rot))
    e_roi=max(abs(roi["width"]-1.25*2*dd/W),abs(roi["height"]-1.25*2*dd/H),abs(roi["rotation"]-rot),abs(roi["x_center"]-k0[0]))
    extra=""
    try:
        u8=np.load(d+"/detector_input_u8.npy")
        if H<W:
            rows=int(round(pv*224)); extra=f" pad rows all zero: 0..{rows-2}={bool((u8[:rows-1]==0).all())} row{rows+1} nonzero={bool(u8[rows+1].any())}"
        elif W<H:
            cols=int(round(ph*224)); extra=f" pad cols zero 0..{cols-2}={bool((u8[:,:cols-1]==0).all())}"
    except FileNotFoundError: pass
    print(f"{d}: n={len(dets)} decode {e_dec:.2e} nms {e_nms:.2e} letterbox {e_unl:.2e} roi_align {e_roia:.2e} roi {e_roi:.2e} rot {rot:.3f}{extra}")
    # ---- landmark side (docs/pipeline.md §2.11, §2.14, §2.15)
    try:
        raw=np.load(d+"/landmark_raw_landmarks.npy").reshape(39,5).astype(np.float64)
    except FileNotFoundError:
        continue
    sg=lambda v:1/(1+np.exp(-v))
    dec=np.stack([raw[:,0]/256,raw[:,1]/256,raw[:,2]/256,sg(raw[:,3]),sg(raw[:,4])],1)
    e_ld=np.abs(dec-np.array(L(d,"landmarks_decoded"))).max()
    ref=np.array(L(d,"landmarks_refined"))
    rw,rh=roi["width"]*W,roi["height"]*H; ta,ra_=1.0,rh/rw
    if ta>ra_: pl,pt=0.0,(1-ra_/ta)/2
    else: pl,pt=(1-ta/ra_)/2,0.0
    def proj(rows):
        x=(rows[:,0]-pl)/(1-2*pl); y=(rows[:,1]-pt)/(1-2*pt); z=rows[:,2]/(1-2*pl)
        c,s_=math.cos(roi["rotation"]),math.sin(roi["rotation"]); dx,dy=x-0.5,y-0.5
        return np.stack([roi["x_center"]+(c*dx-s_*dy)*roi["width"], roi["y_center"]+(s_*dx+c*dy)*roi["height"], z*roi["width"], rows[:,3], rows[:,4]],1)
    e_pr=np.abs(proj(ref[:33])-np.array(L(d,"landmarks_projected"))).max()
    e_aux=np.abs(proj(ref[33:35])-np.array(L(d,"auxiliary_projected"))).max()
    rwl=np.load(d+"/landmark_raw_world.npy").reshape(39,3)[:33].astype(np.float64)
    c,s_=math.cos(roi["rotation"]),math.sin(roi["rotation"])
    wl=np.stack([c*rwl[:,0]-s_*rwl[:,1], s_*rwl[:,0]+c*rwl[:,1], rwl[:,2]],1)
    e_w=np.abs(wl-np.array(L(d,"world_landmarks"))[:,:3]).max()
    e_wv=np.abs(np.array(L(d,"world_landmarks"))[:,3:]-np.array(L(d,"landmarks_projected"))[:,3:]).max()
    print(f"    landmarks: decode {e_ld:.2e} project {e_pr:.2e} aux {e_aux:.2e} world {e_w:.2e} world vis/pres copy {e_wv:.2e} crop pad l/t {pl:.2e}/{pt:.2e}")
